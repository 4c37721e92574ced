// Bad input, randomly and deterministically: every op must either return a sane
// result or throw a FerrogradError that names the op. Any other exception (above all
// `RuntimeError: unreachable`, a trapped wasm panic) is a bug, and so is a "success"
// whose shape is not what was asked for.
import { describe, expect, it } from 'vitest';
import {
  Tensor, tensor, fromArray, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye,
  rand, randn, randint, randperm, cat, stack, where, noGrad, tidy, keep, memory, FerrogradError,
  type NestedArray, type VarOptions,
} from '../../ts/index.js';
import type { UnaryName } from '../../ts/wasm/ops.js';

// mulberry32, seeded, so that every run makes the same calls.
import { mulberry32 } from './gradcheck-helper.js';

/** A successful call that returned something wrong. */
class WrongResult extends Error {}

function ensure(cond: boolean, msg: string): void {
  if (!cond) throw new WrongResult(msg);
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const isSize = (d: number): boolean => Number.isInteger(d) && d >= 0;

/** Any returned tensor must have a consistent shape and readable data of that size. */
function checkTensor(t: Tensor, what: string): void {
  const shape = t.shape;
  ensure(shape.every(isSize), `${what}: shape [${shape.join(', ')}] has a non-size entry`);
  ensure(t.dtype === 'float32' || t.dtype === 'int32', `${what}: dtype ${t.dtype}`);
  ensure(t.numel() === product(shape), `${what}: numel ${t.numel()} for shape [${shape.join(', ')}]`);
  ensure(t.data().length === t.numel(), `${what}: data has ${t.data().length} elements, numel ${t.numel()}`);
}

function checkResult(r: unknown, what: string): void {
  if (r instanceof Tensor) checkTensor(r, what);
  else if (Array.isArray(r)) r.forEach((x, i) => checkResult(x, `${what}[${i}]`));
}

function sameShape(t: unknown, want: readonly number[], what: string): void {
  ensure(t instanceof Tensor, `${what}: expected a Tensor`);
  if (t instanceof Tensor) {
    ensure(JSON.stringify(t.shape) === JSON.stringify(want), `${what}: got shape [${t.shape.join(', ')}], asked for [${want.join(', ')}]`);
  }
}

/** `requested` with one -1 resolved against `n` elements (for reshape and view). */
function resolveShape(requested: number[], n: number): number[] {
  const known = product(requested.filter((d) => d !== -1));
  return requested.map((d) => (d === -1 ? n / known : d));
}

/** One random call: a description to reproduce it, the op names an error may cite. */
interface Trial {
  desc: string;
  names: string[];
  call: () => unknown;
  verify?: (result: unknown) => void;
}

type Rng = () => number;

// ---- random arguments ----

const DIMS = [0, 1, 2, -1, -2, -3, 3, 4, 7, -9, 100, 1.5, -0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), 1e300];
const SIZES = [0, 1, 2, 3, 4, -1, -2, 1.5, NaN, Infinity, 1e6, 1e12, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 32 + 3, 2 ** 53, -(2 ** 32) + 2, 1e300];
const NUMBERS = [0, 1, -1, 0.5, -2.5, 3, 1e30, -1e30, NaN, Infinity, -Infinity, -0, 2 ** 31, 2 ** 53, 1e-40];

function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** Mostly small valid sizes; sometimes a bad or enormous one (never a huge valid one). */
function size(r: Rng): number {
  return r() < 0.6 ? pick(r, [0, 1, 2, 3]) : pick(r, SIZES);
}

function shape(r: Rng): number[] {
  const u = r();
  if (u < 0.03) return Array.from({ length: 61 + Math.floor(r() * 10) }, () => 1);
  const n = Math.floor(r() * 5);
  const s = Array.from({ length: n }, () => size(r));
  // 1e6 is fine alone but would make a multi-gigabyte tensor next to other big sizes.
  if (s.filter((d) => d === 1e6).length > 0 && product(s.filter((d) => d !== 1e6 && isSize(d))) > 8) return [1e6];
  return s;
}

function dim(r: Rng): number {
  return r() < 0.55 ? pick(r, [0, 1, -1, 2]) : pick(r, DIMS);
}

function num(r: Rng): number {
  return pick(r, NUMBERS);
}

function bool(r: Rng): boolean {
  return r() < 0.5;
}

const fmt = (v: unknown): string => {
  if (v instanceof Tensor) return v.isDisposed ? 'Tensor(freed)' : `Tensor(${v.dtype} [${v.shape.join(', ')}])`;
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return JSON.stringify(v) ?? String(v);
};

// ---- the tensors the random calls draw from ----

interface Pool {
  any: Tensor[];
  index: Tensor[];
}

function makePool(): Pool {
  const f = (shapeOf: number[], lo = -2, hi = 2): Tensor => keep(rand(shapeOf).mul(hi - lo).add(lo));
  const freed = randn([2, 3]);
  freed.dispose();
  const any = [
    f([2, 3]), f([3, 4]), f([4]), f([3]), f([]), f([1]), f([2, 1, 3]), f([3, 1]), f([2, 3, 4]), f([2, 2]),
    keep(zeros([0])), keep(zeros([2, 0, 3])), keep(zeros([0, 4])),
    keep(tensor([[1, 2, 3], [4, 5, 6]])), keep(tensor([0, 1, 2])), keep(tensor(7)), keep(tensor([1, 0, 1, 1])),
    keep(fromArray([1, -2, 3, NaN, Infinity, -Infinity], [2, 3])),
    keep(randn([2, 3], { requiresGrad: true })), keep(randn([3], { requiresGrad: true })),
    freed,
  ];
  const index = [
    keep(tensor([0, 1])), keep(tensor([2, 0, 1])), keep(tensor([5, -1])), keep(tensor([[0, 1], [1, 0]])),
    keep(tensor([[0, 2, 1]])), keep(tensor([[3], [0]])), keep(tensor([-1])), keep(tensor(0)),
    keep(fromArray([], [0], { dtype: 'int32' })), keep(tensor([0.0, 1.0], { dtype: 'float32' })), keep(tensor([2 ** 31 - 1])),
    freed,
  ];
  return { any, index };
}

const UNARY_NAMES: UnaryName[] = [
  'neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'relu', 'sigmoid', 'tanh', 'atan', 'sin', 'cos', 'step', 'leakyRelu', 'elu',
  'softplus', 'gelu', 'clamp', 'pow',
];
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'rsub', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;

/** A random call; `t()` draws an operand from the pool (maybe freed, empty or int32). */
function trial(r: Rng, pool: Pool): Trial {
  const t = (): Tensor => pick(r, pool.any);
  const other = (): Tensor | number => (r() < 0.7 ? t() : num(r));
  const dims = (): number[] => Array.from({ length: Math.floor(r() * 4) }, () => dim(r));
  const kind = Math.floor(r() * 64);
  switch (kind) {
    case 0: {
      const s = shape(r);
      return { desc: `zeros(${fmt(s)})`, names: ['zeros', 'full'], call: () => zeros(s), verify: (x) => sameShape(x, s, 'zeros') };
    }
    case 1: {
      const s = shape(r);
      return { desc: `ones(${fmt(s)}, float32)`, names: ['ones', 'full'], call: () => ones(s), verify: (x) => sameShape(x, s, 'ones') };
    }
    case 2: {
      const [s, v, dt] = [shape(r), num(r), pick(r, ['float32', 'int32'] as const)];
      return { desc: `full(${fmt(s)}, ${fmt(v)}, ${dt})`, names: ['full'], call: () => full(s, v, { dtype: dt }), verify: (x) => sameShape(x, s, 'full') };
    }
    case 3: {
      const [a, b, st] = [pick(r, [0, 5, -5, 2.5, NaN, 1e12, -1e12]), pick(r, [0, 3, 10, -3, 1e12, 2 ** 32 + 1, Infinity, NaN]), pick(r, [1, 2, -1, 0.5, 0, NaN, Infinity, 1e-9, -0.25])];
      return {
        desc: `arange(${fmt(a)}, ${fmt(b)}, ${fmt(st)})`,
        names: ['arange'],
        call: () => arange(a, b, st),
        verify: (x) => sameShape(x, [Math.max(0, Math.ceil((b - a) / st))], 'arange'),
      };
    }
    case 4: {
      const [a, b, n] = [num(r), num(r), size(r)];
      return { desc: `linspace(${fmt(a)}, ${fmt(b)}, ${fmt(n)})`, names: ['linspace'], call: () => linspace(a, b, n), verify: (x) => sameShape(x, [n], 'linspace') };
    }
    case 5: {
      const [n, m] = [size(r), r() < 0.5 ? undefined : size(r)];
      return { desc: `eye(${fmt(n)}, ${fmt(m)})`, names: ['eye'], call: () => eye(n, m), verify: (x) => sameShape(x, [n, m ?? n], 'eye') };
    }
    case 6: {
      const s = shape(r);
      const f = pick(r, [rand, randn]);
      return { desc: `${f.name}(${fmt(s)})`, names: ['rand', 'randn'], call: () => f(s), verify: (x) => sameShape(x, s, 'rand') };
    }
    case 7: {
      const [lo, hi, s] = [pick(r, [0, -3, 5, 2 ** 31, -(2 ** 31), 1.5, NaN]), pick(r, [1, 10, 0, 2 ** 31, 2 ** 33, NaN]), shape(r)];
      return { desc: `randint(${fmt(lo)}, ${fmt(hi)}, ${fmt(s)})`, names: ['randint'], call: () => randint(lo, hi, s), verify: (x) => sameShape(x, s, 'randint') };
    }
    case 8: {
      const n = size(r);
      return { desc: `randperm(${fmt(n)})`, names: ['randperm'], call: () => randperm(n), verify: (x) => sameShape(x, [n], 'randperm') };
    }
    case 9: {
      const gen = (depth: number): NestedArray =>
        depth === 0 || r() < 0.2 ? pick(r, [1, 2.5, NaN, true, -0]) : Array.from({ length: Math.floor(r() * 3) }, () => gen(depth - 1));
      const data = gen(3);
      return { desc: `tensor(${JSON.stringify(data)})`, names: ['tensor'], call: () => tensor(data) };
    }
    case 10: {
      const [n, s] = [Math.floor(r() * 7), shape(r)];
      const data = Array.from({ length: n }, (_, i) => i);
      return {
        desc: `fromArray(${n} values, ${fmt(s)})`,
        names: ['tensor'],
        call: () => fromArray(data, s),
        verify: (x) => sameShape(x, s, 'fromArray'),
      };
    }
    case 11: {
      const [x, v] = [t(), num(r)];
      const f = pick(r, [zerosLike, onesLike, (y: Tensor) => fullLike(y, v)]);
      return { desc: `zerosLike/onesLike/fullLike(${fmt(x)})`, names: ['full', 'zerosLike', 'onesLike', 'fullLike'], call: () => f(x) };
    }
    case 12: {
      const xs = Array.from({ length: Math.floor(r() * 4) }, t);
      const d = dim(r);
      return { desc: `cat(${fmt(xs)}, ${fmt(d)})`, names: ['cat'], call: () => cat(xs, d) };
    }
    case 13: {
      const xs = Array.from({ length: Math.floor(r() * 4) }, t);
      const d = dim(r);
      return { desc: `stack(${fmt(xs)}, ${fmt(d)})`, names: ['stack'], call: () => stack(xs, d) };
    }
    case 14:
    case 15: {
      const [x, op, y] = [t(), pick(r, BINARY), other()];
      return { desc: `${fmt(x)}.${op}(${fmt(y)})`, names: [op === 'rsub' ? 'sub' : op], call: () => x[op](y) };
    }
    case 16: {
      const [x, op, y, alpha] = [t(), pick(r, ['add', 'sub'] as const), other(), num(r)];
      return { desc: `${fmt(x)}.${op}(${fmt(y)}, alpha ${fmt(alpha)})`, names: [op, 'mul'], call: () => x[op](y, alpha) };
    }
    case 17: {
      const [x, name, p, q] = [t(), pick(r, UNARY_NAMES), num(r), num(r)];
      return { desc: `${fmt(x)}.unary('${name}', ${fmt(p)}, ${fmt(q)})`, names: [name === 'step' ? 'binaryStep' : name], call: () => x.unary(name, p, q) };
    }
    case 18: {
      const x = t();
      const op = pick(r, ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'sin', 'cos', 'atan', 'relu', 'sigmoid', 'tanh', 'square'] as const);
      return { desc: `${fmt(x)}.${op}()`, names: [op === 'square' ? 'mul' : op], call: () => x[op]() };
    }
    case 19: {
      const [x, lo, hi] = [t(), r() < 0.3 ? null : num(r), r() < 0.3 ? undefined : num(r)];
      return { desc: `${fmt(x)}.clamp(${fmt(lo)}, ${fmt(hi)})`, names: ['clamp'], call: () => x.clamp(lo, hi) };
    }
    case 20: {
      const [c, x, y] = [pick(r, [...pool.any, ...pool.index]), other(), other()];
      return { desc: `where(${fmt(c)}, ${fmt(x)}, ${fmt(y)})`, names: ['where'], call: () => where(c, x, y) };
    }
    case 21: {
      const [x, m, v] = [t(), pick(r, [...pool.any, ...pool.index]), num(r)];
      return { desc: `${fmt(x)}.maskedFill(${fmt(m)}, ${fmt(v)})`, names: ['maskedFill'], call: () => x.maskedFill(m, v) };
    }
    case 22:
    case 23: {
      const [x, op, ds, keepdim] = [t(), pick(r, ['sum', 'mean'] as const), r() < 0.5 ? dim(r) : dims(), bool(r)];
      return { desc: `${fmt(x)}.${op}(${fmt(ds)}, ${keepdim})`, names: [op], call: () => x[op](ds, keepdim) };
    }
    case 24: {
      const [x, op] = [t(), pick(r, ['max', 'min'] as const)];
      return { desc: `${fmt(x)}.${op}()`, names: [op], call: () => x[op]() };
    }
    case 25: {
      const [x, op, d, keepdim] = [t(), pick(r, ['max', 'min'] as const), dim(r), bool(r)];
      return { desc: `${fmt(x)}.${op}(${fmt(d)}, ${keepdim})`, names: [op], call: () => x[op](d, keepdim) };
    }
    case 26: {
      const [x, op, d, keepdim] = [t(), pick(r, ['argmax', 'argmin'] as const), r() < 0.3 ? undefined : dim(r), bool(r)];
      return { desc: `${fmt(x)}.${op}(${fmt(d)}, ${keepdim})`, names: [op], call: () => x[op](d, keepdim) };
    }
    case 27: {
      const [x, op, ds] = [t(), pick(r, ['var', 'std'] as const), r() < 0.3 ? undefined : r() < 0.5 ? dim(r) : dims()];
      const o: VarOptions = { correction: pick(r, [0, 1, 2, -1, 0.5, 100, NaN]), keepdim: bool(r) };
      return { desc: `${fmt(x)}.${op}(${fmt(ds)}, ${JSON.stringify(o)})`, names: ['var', 'std'], call: () => x[op](ds, o) };
    }
    case 28: {
      const [x, op, d] = [t(), pick(r, ['softmax', 'logSoftmax'] as const), dim(r)];
      return { desc: `${fmt(x)}.${op}(${fmt(d)})`, names: [op], call: () => x[op](d) };
    }
    case 29:
    case 30: {
      const [x, y, op] = [t(), t(), pick(r, ['matmul', 'mm'] as const)];
      return { desc: `${fmt(x)}.${op}(${fmt(y)})`, names: [op, 'matmul'], call: () => x[op](y) };
    }
    case 31:
    case 32: {
      const [x, s, op] = [t(), r() < 0.3 ? [pick(r, [-1, 6, 12, 2, 3]), pick(r, [-1, 2, 3, 4])] : shape(r), pick(r, ['reshape', 'view'] as const)];
      return {
        desc: `${fmt(x)}.${op}(${fmt(s)})`,
        names: ['reshape', 'view'],
        call: () => x[op](s),
        verify: (y) => {
          if (y instanceof Tensor) {
            ensure(y.numel() === x.numel(), `reshape changed numel ${x.numel()} to ${y.numel()}`);
            if (s.filter((d) => d === -1).length === 0) sameShape(y, s, 'reshape');
            else sameShape(y, resolveShape(s, x.numel()), 'reshape');
          }
        },
      };
    }
    case 33: {
      const [x, a, b] = [t(), dim(r), dim(r)];
      return { desc: `${fmt(x)}.flatten(${fmt(a)}, ${fmt(b)})`, names: ['flatten', 'reshape'], call: () => x.flatten(a, b) };
    }
    case 34: {
      const [x, d] = [t(), r() < 0.3 ? undefined : dim(r)];
      return { desc: `${fmt(x)}.squeeze(${fmt(d)})`, names: ['squeeze', 'reshape'], call: () => x.squeeze(d) };
    }
    case 35: {
      const [x, d] = [t(), dim(r)];
      return { desc: `${fmt(x)}.unsqueeze(${fmt(d)})`, names: ['unsqueeze', 'reshape'], call: () => x.unsqueeze(d) };
    }
    case 36: {
      const [x, a, b] = [t(), dim(r), dim(r)];
      return { desc: `${fmt(x)}.transpose(${fmt(a)}, ${fmt(b)})`, names: ['transpose'], call: () => x.transpose(a, b) };
    }
    case 37: {
      const x = t();
      return r() < 0.5
        ? { desc: `${fmt(x)}.t()`, names: ['t', 'transpose', 'reshape'], call: () => x.t() }
        : { desc: `${fmt(x)}.T`, names: ['permute'], call: () => x.T };
    }
    case 38: {
      const [x, ds] = [t(), dims()];
      return { desc: `${fmt(x)}.permute(${fmt(ds)})`, names: ['permute'], call: () => x.permute(ds) };
    }
    case 39: {
      const [x, s] = [t(), r() < 0.5 ? [...shape(r), ...t().shape] : shape(r)];
      return {
        desc: `${fmt(x)}.expand(${fmt(s)})`,
        names: ['expand'],
        call: () => x.expand(s),
        verify: (y) => {
          const lead = s.length - x.ndim;
          sameShape(y, s.map((d, i) => (d === -1 ? x.shape[i - lead] : d)), 'expand');
        },
      };
    }
    case 40: {
      const [x, y] = [t(), t()];
      return { desc: `${fmt(x)}.expandAs(${fmt(y)})`, names: ['expand'], call: () => x.expandAs(y) };
    }
    case 41: {
      const [x, d, s, n] = [t(), dim(r), pick(r, [...DIMS, -5, 5]), size(r)];
      return {
        desc: `${fmt(x)}.narrow(${fmt(d)}, ${fmt(s)}, ${fmt(n)})`,
        names: ['narrow'],
        call: () => x.narrow(d, s, n),
        verify: (y) => {
          ensure(y instanceof Tensor && y.ndim === x.ndim, 'narrow changed ndim');
          if (y instanceof Tensor) ensure(y.size(d) === n, `narrow gave size ${y.size(d)} at dim ${d}, asked for ${n}`);
        },
      };
    }
    case 42: {
      const [x, d, s, e] = [t(), dim(r), pick(r, DIMS), r() < 0.3 ? undefined : pick(r, DIMS)];
      return { desc: `${fmt(x)}.slice(${fmt(d)}, ${fmt(s)}, ${fmt(e)})`, names: ['slice', 'narrow'], call: () => x.slice(d, s, e) };
    }
    case 43: {
      const [x, d, i] = [t(), dim(r), pick(r, [...DIMS, 5, -5])];
      return { desc: `${fmt(x)}.select(${fmt(d)}, ${fmt(i)})`, names: ['select'], call: () => x.select(d, i) };
    }
    case 44: {
      const [x, d, i] = [t(), dim(r), pick(r, pool.index)];
      return { desc: `${fmt(x)}.indexSelect(${fmt(d)}, ${fmt(i)})`, names: ['indexSelect'], call: () => x.indexSelect(d, i) };
    }
    case 45: {
      const [x, d, i] = [t(), dim(r), pick(r, pool.index)];
      return { desc: `${fmt(x)}.gather(${fmt(d)}, ${fmt(i)})`, names: ['gather'], call: () => x.gather(d, i) };
    }
    case 46: {
      const [x, op] = [t(), pick(r, ['float', 'int'] as const)];
      return { desc: `${fmt(x)}.${op}()`, names: ['cast', 'float', 'int'], call: () => x[op]() };
    }
    case 47: {
      const [x, op] = [t(), pick(r, ['item', 'toArray', 'data', 'detach', 'clone', 'toString'] as const)];
      return { desc: `${fmt(x)}.${op}()`, names: [op, 'add'], call: () => x[op]() };
    }
    case 48: {
      const [x, d] = [t(), dim(r)];
      return { desc: `${fmt(x)}.size(${fmt(d)})`, names: ['size'], call: () => x.size(d) };
    }
    case 49: {
      const [x, flag] = [t(), bool(r)];
      return { desc: `${fmt(x)}.requiresGrad_(${flag})`, names: ['requiresGrad_'], call: () => x.requiresGrad_(flag) };
    }
    case 50: {
      // A fresh graph each time, so that one trial's backward never frees another's.
      const [x, g, retain] = [t(), r() < 0.5 ? null : t(), bool(r)];
      return {
        desc: `(${fmt(x)} * 2).backward(${fmt(g)}, retainGraph ${retain})`,
        names: ['backward', 'mul'],
        call: () => x.mul(2).backward(g, { retainGraph: retain }),
      };
    }
    case 51: {
      const x = t();
      return { desc: `${fmt(x)}.backward()`, names: ['backward'], call: () => x.backward() };
    }
    case 52: {
      const [x, g] = [t(), r() < 0.2 ? null : t()];
      return {
        desc: `${fmt(x)}.grad = ${fmt(g)}; read it back`,
        names: ['setGrad', 'grad'],
        call: () => {
          x.grad = g;
          return x.grad;
        },
      };
    }
    case 53:
    case 54: {
      const [x, op, y, inNoGrad] = [t(), pick(r, ['add_', 'sub_', 'mul_', 'copy_'] as const), other(), bool(r)];
      const run = (): unknown => {
        if (op === 'copy_') return x.copy_(typeof y === 'number' ? full([], y) : y);
        if (op === 'mul_') return x.mul_(y);
        return x[op](y, 1);
      };
      return {
        desc: `${fmt(x)}.${op}(${fmt(y)})${inNoGrad ? ' in noGrad' : ''}`,
        names: [op, op === 'sub_' ? 'add_' : op, 'full'],
        call: () => (inNoGrad ? noGrad(run) : run()),
      };
    }
    case 55: {
      const [x, v, inNoGrad] = [t(), num(r), bool(r)];
      return {
        desc: `${fmt(x)}.fill_(${fmt(v)})${inNoGrad ? ' in noGrad' : ''}`,
        names: ['fill_'],
        call: () => (inNoGrad ? noGrad(() => x.fill_(v)) : x.fill_(v)),
      };
    }
    case 56: {
      // requiresGrad on int32 data and on fresh creations.
      const s = shape(r);
      const dt = pick(r, ['float32', 'int32'] as const);
      return { desc: `zeros(${fmt(s)}, ${dt}, requiresGrad)`, names: ['zeros', 'full', 'requiresGrad_'], call: () => zeros(s, { dtype: dt, requiresGrad: true }) };
    }
    case 57: {
      const [x, y] = [pick(r, pool.index), t()];
      return { desc: `${fmt(x)}.matmul(${fmt(y)}) (int32)`, names: ['matmul'], call: () => x.matmul(y) };
    }
    case 58: {
      // dispose() and then use the tensor with a random op.
      const x = randn([2, 3]);
      x.dispose();
      const op = pick(r, ['toArray', 'sum', 'exp', 'item', 'detach'] as const);
      return { desc: `disposed Tensor.${op}()`, names: [op], call: () => x[op]() };
    }
    case 59: {
      const [x, y] = [t(), t()];
      return { desc: `where(${fmt(x)}.gt(0), ${fmt(x)}, ${fmt(y)})`, names: ['where', 'gt'], call: () => where(x.gt(0), x, y) };
    }
    case 60: {
      const [x, d] = [t(), pick(r, DIMS)];
      return { desc: `${fmt(x)}.sum(${fmt(d)}).backward()`, names: ['sum', 'backward'], call: () => x.sum(d).backward() };
    }
    case 61:
    case 62: {
      // Backward through an op on edge-case inputs (0-d, empty, broadcast, int32).
      const [x, y, d, i] = [t(), t(), dim(r), pick(r, pool.index)];
      const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
        ['add', (a, b) => a.add(b)], ['mul', (a, b) => a.mul(b)], ['div', (a, b) => a.div(b)], ['pow', (a, b) => a.pow(b)],
        ['matmul', (a, b) => a.matmul(b)], ['max', (a) => a.max(d)[0]], ['max', (a) => a.max()], ['var', (a) => a.var(d)],
        ['softmax', (a) => a.softmax(d)], ['logSoftmax', (a) => a.logSoftmax(d)], ['cat', (a, b) => cat([a, b], d)],
        ['stack', (a, b) => stack([a, b], d)], ['gather', (a) => a.gather(d, i)], ['indexSelect', (a) => a.indexSelect(d, i)],
        ['narrow', (a) => a.narrow(d, 0, 1)], ['select', (a) => a.select(d, -1)], ['expand', (a, b) => a.expand(b.shape)],
        ['permute', (a) => a.T], ['where', (a, b) => where(i, a, b)], ['maskedFill', (a) => a.maskedFill(i, 0)],
        ['mean', (a) => a.mean(d, true)], ['std', (a) => a.std()], ['transpose', (a) => a.transpose(0, d)],
      ];
      const [name, op] = pick(r, ops);
      return {
        desc: `${name} of (${fmt(x)}, ${fmt(y)}) with dim ${fmt(d)}, index ${fmt(i)}, then sum().backward()`,
        names: [name, 'backward', 'requiresGrad_', 'var', 'reshape'],
        call: () => {
          const [a, b] = [x.detach().requiresGrad_(), y.detach().requiresGrad_()];
          op(a, b).sum().backward();
          const grads = [a.grad, b.grad];
          grads.forEach((g, k) => ensure(g === null || JSON.stringify(g.shape) === JSON.stringify([a, b][k].shape), `${name}: grad shape [${g?.shape.join(', ')}] for input [${[a, b][k].shape.join(', ')}]`));
          return grads;
        },
      };
    }
    default: {
      const [x, s] = [t(), shape(r)];
      return { desc: `${fmt(x)}.reshape(${fmt(s)}).exp().sum()`, names: ['reshape', 'exp', 'sum'], call: () => x.reshape(s).exp().sum() };
    }
  }
}

/** Why an exception is acceptable, or a description of what is wrong with it. */
function judgeError(e: unknown, names: string[]): string | null {
  if (!(e instanceof FerrogradError)) {
    return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of a FerrogradError`;
  }
  if (e.message.length === 0) return 'threw a FerrogradError with an empty message';
  // Using a freed handle is caught before any op runs; that message names the fix.
  if (e.kind === 'freed') return /keep/.test(e.message) ? null : `freed error without the fix: ${e.message}`;
  if (!names.some((n) => e.message.startsWith(`${n}:`) || e.message.includes(n))) {
    return `message does not name the op (${names.join(' / ')}): ${e.message}`;
  }
  return null;
}

describe('random bad input', () => {
  it('never traps, always throws FerrogradError naming the op, and does not leak', () => {
    const pool = tidy(makePool);
    const r = mulberry32(20240607);
    const before = memory().tensors;
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    let ok = 0;
    let errors = 0;
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const tr = trial(r, pool);
      try {
        tidy(() => {
          const res = tr.call();
          checkResult(res, tr.desc);
          tr.verify?.(res);
        });
        ok++;
      } catch (e) {
        if (e instanceof WrongResult) {
          failures.push(`#${i} ${tr.desc}: wrong result: ${e.message}`);
          continue;
        }
        errors++;
        if (e instanceof FerrogradError) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
        const bad = judgeError(e, tr.names);
        if (bad !== null) failures.push(`#${i} ${tr.desc}: ${bad}`);
        // A trapped instance is unusable afterwards; stop rather than cascade.
        if (e instanceof WebAssembly.RuntimeError) break;
      }
    }
    expect(failures.slice(0, 25)).toEqual([]);
    expect(ok + errors).toBe(N);
    // Both outcomes must actually occur, or the generator is not exploring.
    expect(ok).toBeGreaterThan(300);
    expect(errors).toBeGreaterThan(300);
    expect(kinds.size).toBeGreaterThanOrEqual(5);

    // Nothing the loop made survives it (every call ran in a tidy).
    expect(memory().tensors).toBe(before);

    // The library still computes correctly.
    tidy(() => {
      const a = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
      const b = tensor([[5, 6], [7, 8]], { dtype: 'float32' });
      const y = a.matmul(b);
      expect(y.toArray()).toEqual([[19, 22], [43, 50]]);
      y.sum().backward();
      expect(a.grad?.toArray()).toEqual([[11, 15], [11, 15]]);
      expect(arange(5).sum().item()).toBe(10);
    });
    expect(memory().tensors).toBe(before);
    for (const t of [...pool.any, ...pool.index]) t.dispose();
  });
});

/** The message of what `fn` throws, after checking it is a FerrogradError. */
function errorOf(fn: () => unknown): string {
  try {
    tidy(fn);
  } catch (e) {
    expect(e).toBeInstanceOf(FerrogradError);
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('expected a FerrogradError, but the call succeeded');
}

describe('specific bad input', () => {
  const f = (s: number[]): Tensor => randn(s);

  it('matmul names both shapes and the inner dimensions', () => {
    expect(errorOf(() => f([2, 3]).matmul(f([4, 5])))).toBe('matmul: cannot multiply [2, 3] by [4, 5]: inner dimensions 3 and 4 differ');
    expect(errorOf(() => f([2, 2]).matmul(f([])))).toMatch(/^matmul: both arguments need at least 1 dim/);
    expect(errorOf(() => tensor([[1, 2], [3, 4]]).matmul(f([2, 2])))).toBe(
      'matmul: expected a float32 tensor but got int32 of shape [2, 2]; call .float() first',
    );
  });

  it('reading a disposed tensor says how to keep it', () => {
    const t = randn([2, 3]);
    t.dispose();
    expect(() => t.toArray()).toThrow(FerrogradError);
    expect(() => t.toArray()).toThrow(/keep/);
    expect(() => t.add(1)).toThrow(/was freed by dispose\(\)/);
    let inner: Tensor | undefined;
    tidy(() => {
      inner = randn([2]);
    });
    expect(() => inner?.data()).toThrow(/freed at the end of tidy\(\).*keep\(tensor\)/);
  });

  it('creation rejects negative, non-integer and enormous sizes', () => {
    expect(errorOf(() => zeros([-1]))).toMatch(/^full: negative dimension -1/);
    expect(errorOf(() => zeros([1e6, 1e6]))).toMatch(/^full: shape \[1000000, 1000000\] has too many elements/);
    expect(errorOf(() => zeros([1.5]))).toBe('full: sizes must be integers, got 1.5 in [1.5]');
    expect(errorOf(() => zeros([NaN]))).toMatch(/^full: sizes must be integers, got NaN/);
    expect(errorOf(() => arange(0, 1e12))).toMatch(/^arange: /);
    expect(errorOf(() => arange(0, 10, 0))).toMatch(/^arange: step must be finite and non-zero/);
    expect(errorOf(() => eye(-2))).toMatch(/^eye: negative dimension/);
    expect(errorOf(() => randperm(-1))).toMatch(/^randperm: /);
    expect(errorOf(() => linspace(0, 1, -3))).toMatch(/^linspace: /);
  });

  it('sizes of 2^32 and more are errors, not truncated to 32 bits', () => {
    expect(errorOf(() => zeros([2 ** 32 + 1]))).toMatch(/^full: /);
    expect(errorOf(() => eye(2 ** 32 + 2))).toMatch(/^eye: /);
    expect(errorOf(() => randperm(2 ** 32 + 3))).toMatch(/^randperm: /);
    expect(errorOf(() => linspace(0, 1, 2 ** 32 + 3))).toMatch(/^linspace: /);
    expect(errorOf(() => f([6]).reshape([2 ** 32 + 6]))).toMatch(/^reshape: /);
    expect(errorOf(() => f([3]).expand([2 ** 32 + 3]))).toMatch(/^expand: /);
    expect(errorOf(() => f([1]).expand([2 ** 32 + 2, 1]))).toMatch(/^expand: /);
  });

  it('shape and dim errors name the op and the fix', () => {
    expect(errorOf(() => f([2, 3]).reshape(4, 5))).toBe('reshape: shape [4, 5] is invalid for input of size 6 (shape [2, 3])');
    expect(errorOf(() => f([2, 3]).reshape(-1, -1))).toBe('reshape: only one dimension can be inferred (-1)');
    expect(errorOf(() => f([2, 3]).sum(2))).toBe('sum: dim 2 is out of range for a tensor with 2 dims (expected a dim in [-2, 1])');
    expect(errorOf(() => f([2, 3]).sum(1.5))).toBe('sum: dims must be integers, got 1.5 in [1.5]');
    expect(errorOf(() => f([2, 3]).softmax(NaN))).toBe('softmax: dim must be integers, got NaN in [NaN]');
    expect(errorOf(() => f([2, 3]).add(f([4, 3])))).toMatch(/^add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast/);
    expect(errorOf(() => f([2, 3]).transpose(0, 2))).toMatch(/^transpose: dim 2 is out of range/);
    expect(errorOf(() => f([2, 3]).permute(0, 0))).toMatch(/^permute: dim 0 appears more than once/);
    expect(errorOf(() => f([2, 3]).expand(4, 3))).toMatch(/^expand: cannot expand shape \[2, 3\]/);
    expect(errorOf(() => cat([f([2, 3]), f([2, 4])], 0))).toMatch(/^cat: tensor 1 has shape \[2, 4\] but tensor 0 has shape \[2, 3\]/);
    expect(errorOf(() => stack([f([2, 3]), f([3, 2])]))).toMatch(/^stack: /);
    expect(errorOf(() => cat([]))).toBe('cat: expected a non-empty list of tensors');
    expect(errorOf(() => f([0, 3]).max())).toMatch(/^max: cannot take the max or min of an empty tensor/);
    expect(errorOf(() => f([0, 3]).max(0))).toMatch(/^max: cannot reduce dim 0 of size 0/);
  });

  it('index errors name the offending index', () => {
    const x = f([2, 3]);
    expect(errorOf(() => x.gather(1, tensor([[0, 5]])))).toBe('gather: index 5 is out of bounds for dim 1 with size 3');
    expect(errorOf(() => x.gather(1, tensor([[0, -1]])))).toBe('gather: index -1 is out of bounds for dim 1 with size 3');
    expect(errorOf(() => x.indexSelect(0, tensor([0, 2])))).toBe('indexSelect: index 2 is out of bounds for dim 0 with size 2');
    expect(errorOf(() => x.indexSelect(0, tensor([0.0, 1.0], { dtype: 'float32' })))).toMatch(/^indexSelect: expected an int32 tensor/);
    expect(errorOf(() => x.select(0, 2))).toBe('select: index 2 is out of range for dim 0 of size 2 (expected -2 ≤ index < 2)');
    expect(errorOf(() => x.narrow(1, 2, 2))).toBe('narrow: start 2 with length 2 is out of range for dim 1 of size 3 (shape [2, 3])');
    expect(errorOf(() => x.narrow(1, 1, 2 ** 62))).toMatch(/^narrow: /);
    expect(errorOf(() => x.narrow(1, 1, 1e300))).toMatch(/^narrow: /);
    // With an empty dim elsewhere the result would have 0 elements: start + length
    // must not wrap around and pass the bounds check.
    expect(errorOf(() => zeros([2, 0, 3]).narrow(2, 2, 1e300))).toMatch(/^narrow: start 2 with length \d+ is out of range/);
    expect(errorOf(() => x.slice(5))).toMatch(/^(slice|size): dim 5 is out of range/);
  });

  it('dtype and autograd misuse are reported, not trapped', () => {
    expect(errorOf(() => tensor([1, 2]).requiresGrad_())).toBe(
      'requiresGrad_: only float32 tensors can require gradients, got int32; call .float() first',
    );
    expect(errorOf(() => tensor([1, 2], { requiresGrad: true }))).toMatch(/^requiresGrad_: only float32/);
    expect(errorOf(() => f([2]).backward())).toMatch(/^backward: the tensor does not require grad/);
    expect(errorOf(() => tensor([1, 2]).pow(-1))).toMatch(/^pow: integers to negative integer powers/);
    expect(errorOf(() => f([2]).clamp(1, 0))).toBe('clamp: min 1 is greater than max 0; swap them');
    expect(errorOf(() => f([2]).unary('softplus', 0))).toBe('softplus: beta must be positive, got 0');
  });

  it('0-d tensors accept dim 0 and -1 in reductions', () => {
    tidy(() => {
      const s = tensor(3, { dtype: 'float32' });
      expect(s.sum(-1).item()).toBe(3);
      expect(s.mean([0], true).shape).toEqual([]);
      expect(tensor(7).mean(-1).item()).toBe(7);
      expect(s.var(0, { correction: 0 }).item()).toBe(0);
      expect(s.max(0)[0].shape).toEqual([]);
      expect(s.max(0, true)[0].shape).toEqual([]);
      expect(errorOf(() => s.sum(1))).toBe('sum: dim 1 is out of range for a 0-d tensor (only dim 0 or -1 may name it)');
    });
  });

  it('empty tensors work where they make sense', () => {
    tidy(() => {
      expect(zeros([0, 3]).sum().item()).toBe(0);
      expect(zeros([0, 3]).sum(0).toArray()).toEqual([0, 0, 0]);
      expect(zeros([2, 0]).matmul(zeros([0, 3])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
      expect(zeros([0]).exp().shape).toEqual([0]);
      expect(cat([zeros([0, 2]), ones([1, 2])]).toArray()).toEqual([[1, 1]]);
      expect(zeros([3, 0]).softmax(1).shape).toEqual([3, 0]);
      expect(zeros([2, 3]).narrow(1, 3, 0).shape).toEqual([2, 0]);
    });
  });
});
