import { describe, expect, it } from 'vitest';
import { fromRows, tensor, FerrogradError } from '../../ts/index.js';

describe('fromRows', () => {
  it('cuts the rows indexSelect would cut from the whole set, from shared memory where there is any', () => {
    // Pages that are not cross-origin isolated have no SharedArrayBuffer.
    const Memory = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : ArrayBuffer;
    const source = new Float32Array(new Memory(4 * 10 * 6));
    for (let i = 0; i < source.length; i++) source[i] = Math.sin(i) * 100;
    const rows = [7, 0, 7, 3];
    const got = fromRows(source, Int32Array.from(rows), [2, 3]);
    const whole = tensor(Float32Array.from(source), { shape: [10, 2, 3] });
    expect(got.shape).toEqual([4, 2, 3]);
    expect(got.dtype).toBe('float32');
    expect(got.toArray()).toEqual(whole.indexSelect(0, tensor(rows)).toArray());
  });

  it('keeps int32 data, takes plain index arrays, and makes an empty batch from no rows', () => {
    const labels = Int32Array.from([5, 6, 7, 8]);
    const y = fromRows(labels, [3, 1], []);
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([8, 6]);
    expect(fromRows(labels, [], [1]).shape).toEqual([0, 1]);
  });

  it('refuses rows out of range and data that is not whole rows, naming them', () => {
    const source = new Float32Array(12);
    expect(() => fromRows(source, [0, 4], [3])).toThrow(/fromRows: row 4 \(at 1\) is out of range for 4 rows of \[3\]/);
    expect(() => fromRows(source, [-1], [3])).toThrow(FerrogradError);
    expect(() => fromRows(source, [0.5], [3])).toThrow(/row 0.5/);
    expect(() => fromRows(source, [0], [5])).toThrow(/12 values are not whole rows of \[5\]/);
    expect(() => fromRows(source, [0], [-1])).toThrow(/rowShape \[-1\]/);
    // The library stays usable.
    expect(fromRows(source, [1], [3]).shape).toEqual([1, 3]);
  });
});
