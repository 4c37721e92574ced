// The Optimizer base: parameter groups with their hyperparameters, per-parameter
// state kept outside every scope, zeroGrad, step and state dicts, as torch.optim.

import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { keep } from '../scope.js';
import { FerrogradError } from '../errors.js';

/** A group of parameters with its own hyperparameters (`lr`, ...). */
export type ParamGroup<O> = Required<O> & { params: Tensor[] };
/** What the constructors accept: parameters, or groups that override the defaults. */
export type Params<O> = Iterable<Tensor> | Array<Partial<O> & { params: Iterable<Tensor> }>;
/** Per-parameter state: tensors (momentum buffers...) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** An optimizer's state dict, with parameters referred to by their index as in PyTorch. */
export interface OptimizerStateDict<O> {
  state: Record<number, ParamState>;
  paramGroups: (Omit<ParamGroup<O>, 'params'> & { params: number[] })[];
}

/** `o` without its undefined entries, so that `{ momentum: undefined }` keeps the default. */
export function definedOptions<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

export function checkRange(ok: boolean, what: string, value: number): void {
  if (!ok) throw new RangeError(`Invalid ${what}: ${value}`);
}

export abstract class Optimizer<O extends { lr?: number }> {
  readonly paramGroups: ParamGroup<O>[] = [];
  readonly state = new Map<Tensor, ParamState>();

  constructor(
    params: Params<O>,
    readonly defaults: Required<O>,
  ) {
    const list = [...params];
    if (list.length === 0) throw new FerrogradError('value', `${this.constructor.name}: got an empty parameter list`);
    const isGroup = (g: unknown): g is Partial<O> & { params: Iterable<Tensor> } =>
      typeof g === 'object' && g !== null && !(g instanceof Tensor) && 'params' in g;
    const tensors = list.filter((p): p is Tensor => p instanceof Tensor);
    const single: Partial<O> = {};
    const groups = list.every(isGroup) ? list : [Object.assign(single, { params: tensors })];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Checks a group's hyperparameters; subclasses throw RangeError like PyTorch. */
  protected abstract validate(group: Required<O>): void;
  /** Updates one parameter in place from its gradient (grad mode is off). */
  protected abstract update(p: Tensor, grad: Tensor, group: ParamGroup<O>, state: ParamState): void;

  addParamGroup(group: Partial<O> & { params: Iterable<Tensor> }): void {
    const params = [...group.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new FerrogradError('value', `${this.constructor.name}: params must be Tensors`);
      if (this.paramGroups.some((g) => g.params.includes(p))) {
        throw new FerrogradError('value', `${this.constructor.name}: some parameters appear in more than one parameter group`);
      }
    }
    const full = { ...this.defaults, ...definedOptions(group), params } as ParamGroup<O>;
    this.validate(full);
    this.paramGroups.push(full);
  }

  /** Clears gradients (to null, PyTorch's default), or zeroes them with `setToNone: false`. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) p.grad = null;
        else noGrad(() => p.grad?.zero_());
      }
    }
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const grad = p.grad;
          if (!grad) continue;
          let st = this.state.get(p);
          if (!st) this.state.set(p, (st = {}));
          this.update(p, grad, group, st);
        }
      }
    });
  }

  /** A state tensor that lives as long as the optimizer. */
  protected buffer(make: () => Tensor): Tensor {
    return keep(make());
  }

  stateDict(): OptimizerStateDict<O> {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      const ids = params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p) ?? 0;
      });
      return { ...rest, params: ids };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  loadStateDict(sd: OptimizerStateDict<O>): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new FerrogradError('value', `loadStateDict: loaded state dict has ${sd.paramGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    sd.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i].params.length) {
        throw new FerrogradError('value', `loadStateDict: group ${i} has ${g.params.length} parameters in the state dict but ${this.paramGroups[i].params.length} in the optimizer`);
      }
    });
    sd.paramGroups.forEach((g, i) => {
      const { params: _ignored, ...hyper } = g;
      Object.assign(this.paramGroups[i], hyper);
    });
    this.state.clear();
    for (const [k, s] of Object.entries(sd.state)) {
      const p = params[Number(k)];
      if (!p) continue;
      const copy: ParamState = {};
      for (const [name, v] of Object.entries(s)) copy[name] = typeof v === 'number' ? v : this.buffer(() => v.detach());
      this.state.set(p, copy);
    }
  }
}
