// saveModel / loadModel: every built-in layer round-trips (architecture, weights,
// buffers, train/eval mode) and computes the same values; user-defined modules cross
// with their class; bad files fail with messages that name the problem.
import { describe, expect, it } from 'vitest';
import {
  nn, randn, manualSeed, noGrad, load, loadMetadata, save, saveModel, loadModel, loadModelAsync, describeModel,
  registerModule, withSource, FerrogradError, type Tensor,
} from '../../ts/index.js';

const values = (t: Tensor): number[] => Array.from(t.data());

function roundTrip(model: nn.Module, x: Tensor): nn.Module {
  const copy = loadModel(saveModel(model));
  expect(copy.toString()).toBe(model.toString());
  expect(Object.keys(copy.stateDict())).toEqual(Object.keys(model.stateDict()));
  expect(values(noGrad(() => copy.forward(x)))).toEqual(values(noGrad(() => model.forward(x))));
  return copy;
}

class Scale extends nn.Module {
  constructor(readonly factor: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.factor);
  }
}

describe('saveModel / loadModel', () => {
  it('round-trips an MLP with every activation', () => {
    manualSeed(1);
    const model = new nn.Sequential(
      new nn.Linear(6, 8),
      new nn.ReLU(),
      new nn.Linear(8, 8, { bias: false }),
      new nn.LeakyReLU(0.2),
      new nn.PReLU({ numParameters: 1, init: 0.1 }),
      new nn.ELU(0.7),
      new nn.Softplus({ beta: 2, threshold: 10 }),
      new nn.Sigmoid(),
      new nn.Tanh(),
      new nn.ArcTan(),
      new nn.GELU(),
      new nn.BinaryStep(),
      new nn.Identity(),
      new nn.Dropout(0.25),
      new nn.Linear(8, 3),
      new nn.LogSoftmax(1),
      new nn.Softmax(-1),
    ).eval();
    const copy = roundTrip(model, randn([4, 6]));
    expect(copy.training).toBe(false);
  });

  it('round-trips a CNN: Conv2d, BatchNorm (running statistics), pooling, Flatten', () => {
    manualSeed(2);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, [3, 3], { padding: 1, stride: 1, bias: false }),
      new nn.BatchNorm2d(4, { momentum: 0.2 }),
      new nn.ReLU(),
      new nn.MaxPool2d(2, { stride: 2 }),
      new nn.Conv2d(4, 4, 3, { padding: 'same', groups: 2, dilation: 1 }),
      new nn.AvgPool2d(2, { stride: 1, countIncludePad: false }),
      new nn.Dropout2d(0.1),
      new nn.AdaptiveAvgPool2d([2, null]), // 4 channels × 2 × 3
      new nn.Flatten(1, -1),
      new nn.Linear(24, 5),
      new nn.BatchNorm1d(5, { momentum: null }),
    );
    noGrad(() => model.forward(randn([6, 1, 8, 8]))); // moves the running statistics
    model.eval();
    const copy = roundTrip(model, randn([3, 1, 8, 8]));
    expect(values(copy.stateDict()['1.running_var'])).toEqual(values(model.stateDict()['1.running_var']));
  });

  it('keeps container kinds, names and per-module modes', () => {
    const model = new nn.Sequential({ encoder: new nn.Linear(4, 3), act: new nn.Tanh(), head: new nn.Linear(3, 2) });
    model.at(1).eval();
    const copy = loadModel(saveModel(model));
    expect(Object.keys(copy.stateDict())).toEqual(['encoder.weight', 'encoder.bias', 'head.weight', 'head.bias']);
    expect([...copy.modules()].map((m) => m.training)).toEqual([true, true, false, true]);

    const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.ModuleDict({ a: new nn.Linear(2, 1) })]);
    const listCopy = loadModel(saveModel(list));
    expect(listCopy).toBeInstanceOf(nn.ModuleList);
    expect(Object.keys(listCopy.stateDict())).toEqual(['0.weight', '0.bias', '1.a.weight', '1.a.bias']);
  });

  it('writes the weights as a PyTorch state dict with the architecture in the metadata', () => {
    const model = new nn.Sequential(new nn.Linear(3, 2), new nn.ReLU());
    const bytes = saveModel(model, { metadata: { note: 'hello' } });
    expect(Object.keys(load(bytes)).sort()).toEqual(['0.bias', '0.weight']);
    const meta = loadMetadata(bytes);
    expect(meta.format).toBe('pt');
    expect(meta.note).toBe('hello');
    expect(JSON.parse(meta['ferrograd.architecture'])).toEqual(describeModel(model));
    expect(describeModel(model)).toMatchObject({
      type: 'Sequential',
      children: [['0', { type: 'Linear', config: { inFeatures: 3, outFeatures: 2, bias: true } }], ['1', { type: 'ReLU' }]],
    });
  });

  it('user-defined modules: refused without a source, rebuilt from a given class or a registry entry', async () => {
    expect(() => saveModel(new nn.Sequential(new Scale(2)))).toThrow(/module "0" is a Scale, which is not a built-in layer/);
    const source = { module: 'https://example.invalid/scale.js', export: 'Scale', args: [3] };
    const bytes = saveModel(new nn.Sequential(withSource(new Scale(3), source), new nn.ReLU()));
    expect(() => loadModel(bytes)).toThrow(/loadModel\(bytes, \{ classes: \{ Scale \} \}\)/);
    const copy = loadModel(bytes, { classes: { Scale } });
    const x = randn([2, 2]);
    expect(values(copy.forward(x))).toEqual(values(x.mul(3).relu()));
    await expect(loadModelAsync(bytes)).rejects.toThrow(/cannot import https:\/\/example.invalid\/scale.js for Scale/);
    expect(values((await loadModelAsync(bytes, { classes: { Scale } })).forward(x))).toEqual(values(x.mul(3).relu()));

    class Shift extends nn.Module {
      constructor(readonly by: number) {
        super();
      }
      forward(x: Tensor): Tensor {
        return x.add(this.by);
      }
    }
    registerModule('test.Shift', Shift, { config: (m) => ({ by: m.by }), create: (c) => new Shift(c.num('by')) });
    const shifted = loadModel(saveModel(new nn.Sequential(new Shift(5))));
    expect(values(shifted.forward(x))).toEqual(values(x.add(5)));
  });

  it('refuses files that are not models, or whose architecture is damaged, naming the problem', () => {
    const plain = save(new nn.Linear(2, 2).stateDict());
    expect(() => loadModel(plain)).toThrow(/plain state dict: build the model and call model.loadStateDict/);
    const damaged = save(new nn.Linear(2, 2).stateDict(), { 'ferrograd.architecture': JSON.stringify({ type: 'Linear', training: true, config: { inFeatures: 'two' } }) });
    expect(() => loadModel(damaged)).toThrow(FerrogradError);
    expect(() => loadModel(damaged)).toThrow(/Linear config field "inFeatures" must be a number, got "two"/);
    const unknown = save({}, { 'ferrograd.architecture': JSON.stringify({ type: 'Transformer', training: true, config: {} }) });
    expect(() => loadModel(unknown)).toThrow(/unknown layer type "Transformer"/);
    const wrongShape = save({ weight: randn([3, 3]), bias: randn([2]) }, { 'ferrograd.architecture': JSON.stringify(describeModel(new nn.Linear(2, 2))) });
    expect(() => loadModel(wrongShape)).toThrow(/size mismatch for weight/);
  });
});
