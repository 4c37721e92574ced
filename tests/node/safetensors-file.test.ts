// saveFile/loadFile round trip through a temporary directory, and the file written on
// the PyTorch side loaded from disk.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerrogradError, fromArray, memory, type Tensor } from '../../ts/index.js';
import { loadFile, saveFile } from '../../ts/io/file.js';
import { loadMetadata, save } from '../../ts/io/safetensors.js';
import sequential from '../fixtures/sequential.json' with { type: 'json' };

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferrograd-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const dispose = (d: Record<string, Tensor>): void => Object.values(d).forEach((t) => t.dispose());

describe('safetensors files', () => {
  it('round-trips through saveFile and loadFile', async () => {
    const before = memory().tensors;
    const tensors = {
      weight: fromArray(Float32Array.from({ length: 6 }, (_, i) => i / 7 - 0.3), [2, 3]),
      steps: fromArray(new Int32Array([3, -4]), [2]),
    };
    const path = join(dir, 'model.safetensors');
    await saveFile(path, tensors, { format: 'pt' });
    const onDisk = new Uint8Array(await readFile(path));
    expect(Array.from(onDisk)).toEqual(Array.from(save(tensors, { format: 'pt' })));
    expect(loadMetadata(onDisk)).toEqual({ format: 'pt' });
    const back = await loadFile(path);
    expect(Object.keys(back).sort()).toEqual(['steps', 'weight']);
    for (const k of ['weight', 'steps'] as const) {
      expect(back[k].dtype).toBe(tensors[k].dtype);
      expect(back[k].shape).toEqual(tensors[k].shape);
      expect(Array.from(back[k].data())).toEqual(Array.from(tensors[k].data()));
    }
    dispose(back);
    dispose(tensors);
    expect(memory().tensors).toBe(before);
  });

  it('loads the file written on the PyTorch side', async () => {
    const path = fileURLToPath(new URL('../fixtures/sequential.safetensors', import.meta.url));
    const state = await loadFile(path);
    expect(state['0.weight'].shape).toEqual(sequential.state_dict['0.weight'].shape);
    expect(Array.from(state['2.bias'].data())).toEqual(sequential.state_dict['2.bias'].values);
    dispose(state);
  });

  it('reports a bad file as a FerrogradError and a missing one as Node does', async () => {
    const before = memory().tensors;
    const path = join(dir, 'bad.safetensors');
    await saveFile(path, { w: fromArray(new Float32Array([1, 2]), [2]) });
    const bytes = new Uint8Array(await readFile(path));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, bytes.subarray(0, bytes.length - 1));
    await expect(loadFile(path)).rejects.toThrow(FerrogradError);
    await expect(loadFile(path)).rejects.toThrow(/load: tensor "w"/);
    await expect(loadFile(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(saveFile(join(dir, 'no', 'such', 'dir.safetensors'), {})).rejects.toMatchObject({ code: 'ENOENT' });
    expect(memory().tensors).toBeLessThanOrEqual(before + 1);
  });
});
