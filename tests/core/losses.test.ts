// Every loss module against PyTorch 1.13, with reduction 'mean', 'sum' and 'none' (and
// KLDivLoss's 'batchmean'): values and input gradients. Expected values come from
// tests/fixtures/make_nn_fixtures.py (run it with /usr/bin/python3 to regenerate).

import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/nn.json' with { type: 'json' };
import { Tensor, tensor, randn, FerrogradError, nn, F } from '../../ts/index.js';
import { build, expectClose, need, weightedSum, type Encoded, type EncodedDict } from './nn-fixture-helpers.js';

type AnyReduction = F.Reduction | 'batchmean';
interface LossOptions {
  weight?: string;
  posWeight?: string;
  ignoreIndex?: number;
  labelSmoothing?: number;
  logTarget?: boolean;
}
interface LossCase {
  name: string;
  options: LossOptions;
  inputs: EncodedDict;
  results: Partial<Record<string, { value: Encoded; w?: Encoded; grad?: Encoded }>>;
}
interface Fixtures {
  losses: LossCase[];
}
const data: Fixtures = fixtures;

function isReduction(r: string): r is F.Reduction {
  return r === 'mean' || r === 'sum' || r === 'none';
}

function makeLoss(c: LossCase, reduction: AnyReduction): nn.Module {
  const o = c.options;
  const t = (key: string | undefined): Tensor | undefined => (key === undefined ? undefined : build(need(c.inputs, key)));
  const kind = c.name.replace(/[+[(].*$/, '');
  if (kind === 'KLDivLoss') return new nn.KLDivLoss({ reduction, logTarget: o.logTarget });
  if (!isReduction(reduction)) throw new Error(`${kind} has no reduction ${reduction}`);
  switch (kind) {
    case 'MSELoss': return new nn.MSELoss({ reduction });
    case 'L1Loss': return new nn.L1Loss({ reduction });
    case 'BCELoss': return new nn.BCELoss({ reduction, weight: t(o.weight) });
    case 'BCEWithLogitsLoss': return new nn.BCEWithLogitsLoss({ reduction, weight: t(o.weight), posWeight: t(o.posWeight) });
    case 'CrossEntropyLoss':
      return new nn.CrossEntropyLoss({ reduction, weight: t(o.weight), ignoreIndex: o.ignoreIndex, labelSmoothing: o.labelSmoothing });
    case 'NLLLoss': return new nn.NLLLoss({ reduction, weight: t(o.weight), ignoreIndex: o.ignoreIndex });
    case 'HingeLoss': return new nn.HingeLoss({ reduction });
    case 'PerceptronLoss': return new nn.PerceptronLoss({ reduction });
    default: throw new Error(`no module for fixture case ${c.name}`);
  }
}

describe('losses match PyTorch (values and input gradients)', () => {
  it('covers every loss module', () => {
    const kinds = new Set(data.losses.map((c) => c.name.replace(/[+[(].*$/, '')));
    for (const k of ['MSELoss', 'L1Loss', 'BCELoss', 'BCEWithLogitsLoss', 'CrossEntropyLoss', 'NLLLoss', 'KLDivLoss', 'HingeLoss', 'PerceptronLoss']) {
      expect(kinds.has(k), k).toBe(true);
    }
  });
  for (const c of data.losses) {
    describe(c.name, () => {
      for (const [reduction, r] of Object.entries(c.results)) {
        it(`reduction '${reduction}'`, () => {
          if (r === undefined) throw new Error('no result');
          if (!(isReduction(reduction) || reduction === 'batchmean')) throw new Error(`bad reduction ${reduction}`);
          const loss = makeLoss(c, reduction);
          const input = build(need(c.inputs, 'input'), r.grad !== undefined);
          const target = build(need(c.inputs, 'target'));
          const y = loss.forward(input, target);
          expectClose(y, r.value, 'value');
          if (r.w && r.grad) {
            weightedSum(y, r.w).backward();
            expectClose(input.grad, r.grad, 'input grad');
          }
        });
      }
    });
  }
});

describe('loss modules', () => {
  it("repr shows the options like PyTorch's extra_repr", () => {
    expect(new nn.MSELoss().toString()).toBe('MSELoss()');
  });
});

describe('bad input', () => {
  const logits = (): Tensor => randn([4, 3]);
  function thrown(fn: () => unknown): unknown {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return null;
  }

  it('CrossEntropyLoss rejects float32 class indices of shape [N]', () => {
    const err = thrown(() => new nn.CrossEntropyLoss().forward(logits(), tensor([0, 1, 2, 1], { dtype: 'float32' })));
    expect(err).toBeInstanceOf(FerrogradError);
    expect(err instanceof Error ? err.message : '').toMatch(/int32/);
    expect(err instanceof Error ? err.message : '').toContain('[4]');
  });

  it('CrossEntropyLoss rejects an out-of-range class', () => {
    for (const bad of [3, -1]) {
      const err = thrown(() => new nn.CrossEntropyLoss().forward(logits(), tensor([0, bad, 2, 1], { dtype: 'int32' })));
      expect(err, `class ${bad}`).toBeInstanceOf(FerrogradError);
      expect(err instanceof Error ? err.message : '').toContain(`target ${bad} is out of bounds for 3 classes`);
    }
  });

  it('NLLLoss rejects float32 class indices and an out-of-range class', () => {
    expect(() => new nn.NLLLoss().forward(logits(), tensor([0, 1, 2, 1], { dtype: 'float32' }))).toThrow(FerrogradError);
    expect(() => new nn.NLLLoss().forward(logits(), tensor([0, 1, 5, 1], { dtype: 'int32' }))).toThrow(FerrogradError);
  });

  it('BCELoss rejects inputs outside [0, 1]', () => {
    expect(() => new nn.BCELoss().forward(tensor([0.5, 1.5], { dtype: 'float32' }), tensor([0, 1], { dtype: 'float32' }))).toThrow(/between 0 and 1/);
  });

  it('MSELoss rejects mismatched shapes', () => {
    expect(() => new nn.MSELoss().forward(randn([4, 3]), randn([4, 2]))).toThrow(FerrogradError);
  });
});
