//! Reductions over dims: sum, mean, max/min (with indices), argmax/argmin, var/std,
//! and `sum_to_shape`, the adjoint of broadcasting.

use crate::autograd::Op;
use crate::buffer::DType;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::ops::layout::expand_values;
use crate::shape::{normalize_dim, normalize_dims};
use crate::tensor::{new_f32, new_i32, Tensor};

/// `(outer, size, inner)` for reducing `dim` of `shape`.
fn split(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    let outer = shape[..dim].iter().product();
    let inner = shape[dim + 1..].iter().product();
    (outer, shape[dim], inner)
}

fn reduced_shape(shape: &[usize], dims: &[usize], keepdim: bool) -> Vec<usize> {
    let mut out = Vec::with_capacity(shape.len());
    for (i, &d) in shape.iter().enumerate() {
        if dims.contains(&i) {
            if keepdim {
                out.push(1);
            }
        } else {
            out.push(d);
        }
    }
    out
}

/// Resolves a dim list; an empty list means every dim, as `sum()` with no dim does.
fn resolve_dims(op: &'static str, dims: &[i64], ndim: usize) -> Result<Vec<usize>> {
    if dims.is_empty() {
        Ok((0..ndim).collect())
    } else if ndim == 0 {
        // A 0-d tensor accepts dim 0 / -1 (as in PyTorch) but has no dim to index:
        // reducing it over "dim 0" reduces nothing.
        normalize_dims(op, dims, ndim)?;
        Ok(Vec::new())
    } else {
        normalize_dims(op, dims, ndim)
    }
}

/// Sum of float32 `x` over `dims`, times `scale`, accumulated in f64.
fn sum_f32(op: &'static str, x: &Tensor, dims: &[usize], keepdim: bool, scale: f64) -> Result<Tensor> {
    let xs = x.f32s(op)?;
    let out_shape = reduced_shape(&x.shape, dims, keepdim);
    if dims.len() == x.ndim() && x.ndim() > 0 {
        // Every dim (`sum()`, `mean()`): one pass, without the f64 copy of the whole tensor
        // that the per-dim passes below work on; four partial sums hide the add latency.
        let mut acc = [0f64; 4];
        let quads = xs.chunks_exact(4);
        let rest: f64 = quads.remainder().iter().map(|&v| v as f64).sum();
        for q in quads {
            for (a, &v) in acc.iter_mut().zip(q) {
                *a += v as f64;
            }
        }
        let total = (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest;
        return new_f32(op, &out_shape, |o| o[0] = (total * scale) as f32);
    }
    let mut cur: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
    let mut shape = x.shape.clone();
    for &d in dims {
        let (outer, size, inner) = split(&shape, d);
        let mut next = vec![0f64; outer * inner];
        for o in 0..outer {
            for r in 0..size {
                let src = &cur[(o * size + r) * inner..(o * size + r + 1) * inner];
                let dst = &mut next[o * inner..(o + 1) * inner];
                for (a, &b) in dst.iter_mut().zip(src) {
                    *a += b;
                }
            }
        }
        cur = next;
        shape[d] = 1;
    }
    new_f32(op, &out_shape, |o| {
        for (o, &v) in o.iter_mut().zip(&cur) {
            *o = (v * scale) as f32;
        }
    })
}

fn sum_i32(op: &'static str, x: &Tensor, dims: &[usize], keepdim: bool) -> Result<Tensor> {
    let mut cur: Vec<i64> = x.i32s(op)?.iter().map(|&v| v as i64).collect();
    let mut shape = x.shape.clone();
    for &d in dims {
        let (outer, size, inner) = split(&shape, d);
        let mut next = vec![0i64; outer * inner];
        for o in 0..outer {
            for r in 0..size {
                for i in 0..inner {
                    next[o * inner + i] += cur[(o * size + r) * inner + i];
                }
            }
        }
        cur = next;
        shape[d] = 1;
    }
    new_i32(op, &reduced_shape(&x.shape, dims, keepdim), |o| {
        for (o, &v) in o.iter_mut().zip(&cur) {
            *o = v as i32;
        }
    })
}

/// Sums `g` down to `shape`, undoing a broadcast from `shape` to `g.shape`.
pub fn sum_to_shape(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape == shape {
        return Ok(g.clone());
    }
    let lead = g.ndim() - shape.len();
    let dims: Vec<usize> = (0..g.ndim()).filter(|&i| i < lead || (shape[i - lead] == 1 && g.shape[i] != 1)).collect();
    let s = sum_f32("sum_to_shape", g, &dims, true, 1.0)?;
    Ok(s.with_shape(shape.to_vec()))
}

// d sum = g broadcast back over the reduced dims (times the mean's 1/n).
pub fn sum_backward(g: &Tensor, shape: &[usize], dims: &[usize], keepdim: bool, scale: f32) -> Result<Tensor> {
    let kept = g.with_shape(reduced_shape(shape, dims, true));
    let _ = keepdim;
    let e = expand_values(&kept, shape)?;
    if scale == 1.0 {
        return Ok(e);
    }
    crate::ops::unary::map_f32("mean_backward", &e, |v| v * scale)
}

/// Max (or min) along one dim: values and first-occurrence indices. NaN wins, as in PyTorch.
fn extremum_dim(op: &'static str, x: &Tensor, dim: usize, keepdim: bool, is_max: bool) -> Result<(Tensor, Tensor)> {
    let (outer, size, inner) = split(&x.shape, dim);
    if size == 0 {
        return Err(Error::value(op, format!("cannot reduce dim {} of size 0 in a tensor of shape {}", dim, fmt_shape(&x.shape))));
    }
    let out_shape = reduced_shape(&x.shape, &[dim], keepdim);
    let xf = x.to_f32(op)?;
    let xs = xf.f32s(op)?;
    let better = |v: f32, best: f32| if v.is_nan() { !best.is_nan() } else if is_max { v > best } else { v < best };
    let mut idx = vec![0i32; outer * inner];
    for o in 0..outer {
        for i in 0..inner {
            let mut bi = 0;
            let mut best = xs[o * size * inner + i];
            for r in 1..size {
                let v = xs[(o * size + r) * inner + i];
                if better(v, best) {
                    best = v;
                    bi = r;
                }
            }
            idx[o * inner + i] = bi as i32;
        }
    }
    let index = new_i32(op, &out_shape, |o| o.copy_from_slice(&idx))?;
    let values = match x.dtype() {
        DType::F32 => new_f32(op, &out_shape, |o| {
            for (k, o) in o.iter_mut().enumerate() {
                let (oo, i) = (k / inner.max(1), k % inner.max(1));
                *o = xs[(oo * size + idx[k] as usize) * inner + i];
            }
        })?,
        DType::I32 => {
            let xi = x.i32s(op)?;
            new_i32(op, &out_shape, |o| {
                for (k, o) in o.iter_mut().enumerate() {
                    let (oo, i) = (k / inner.max(1), k % inner.max(1));
                    *o = xi[(oo * size + idx[k] as usize) * inner + i];
                }
            })?
        }
    };
    Ok((values, index))
}

// d max_dim: g goes to the selected index, 0 elsewhere.
pub fn extremum_dim_backward(g: &Tensor, shape: &[usize], dim: usize, keepdim: bool, index: &Tensor) -> Result<Tensor> {
    let _ = keepdim;
    let (outer, size, inner) = split(shape, dim);
    let (gs, is) = (g.f32s("max_backward")?, index.i32s("max_backward")?);
    new_f32("max_backward", shape, |o| {
        for k in 0..outer * inner {
            let (oo, i) = (k / inner.max(1), k % inner.max(1));
            o[(oo * size + is[k] as usize) * inner + i] = gs[k];
        }
    })
}

// d max_all: g shared evenly among all elements equal to the max (PyTorch's rule).
pub fn extremum_all_backward(g: &Tensor, x: &Tensor, out: &Tensor) -> Result<Tensor> {
    let op = "max_backward";
    let (xs, m, gv) = (x.f32s(op)?, out.f32s(op)?[0], g.f32s(op)?[0]);
    let ties = xs.iter().filter(|&&v| v == m || (v.is_nan() && m.is_nan())).count().max(1);
    let share = gv / ties as f32;
    new_f32(op, &x.shape, |o| {
        for (o, &v) in o.iter_mut().zip(xs) {
            if v == m || (v.is_nan() && m.is_nan()) {
                *o = share;
            }
        }
    })
}

/// Two-pass variance over `dims` with `correction` (1 = unbiased), in f64.
fn var_values(op: &'static str, x: &Tensor, dims: &[usize], correction: f32, keepdim: bool) -> Result<Tensor> {
    let n: usize = dims.iter().map(|&d| x.shape[d]).product();
    let mean = sum_f32(op, x, dims, true, 1.0 / n.max(1) as f64)?;
    let me = expand_values(&mean, &x.shape)?;
    let (xs, ms) = (x.f32s(op)?, me.f32s(op)?);
    let sq = new_f32(op, &x.shape, |o| {
        for i in 0..o.len() {
            let d = xs[i] - ms[i];
            o[i] = d * d;
        }
    })?;
    let denom = n as f64 - correction as f64;
    sum_f32(op, &sq, dims, keepdim, if denom > 0.0 { 1.0 / denom } else { f64::NAN })
}

// d var = g · 2(x - mean) / (n - correction)
pub fn var_backward(g: &Tensor, x: &Tensor, dims: &[usize], correction: f32, keepdim: bool) -> Result<Tensor> {
    let op = "var_backward";
    let _ = keepdim;
    let n: usize = dims.iter().map(|&d| x.shape[d]).product();
    let mean = sum_f32(op, x, dims, true, 1.0 / n.max(1) as f64)?;
    let me = expand_values(&mean, &x.shape)?;
    let ge = expand_values(&g.with_shape(reduced_shape(&x.shape, dims, true)), &x.shape)?;
    let scale = 2.0 / (n as f32 - correction);
    let (xs, ms, gs) = (x.f32s(op)?, me.f32s(op)?, ge.f32s(op)?);
    new_f32(op, &x.shape, |o| {
        for i in 0..o.len() {
            o[i] = gs[i] * scale * (xs[i] - ms[i]);
        }
    })
}

impl Context {
    /// `sum(dims, keepdim)`; with `mean`, divides by the number of reduced elements.
    pub fn sum(&mut self, a: Id, dims: &[i64], keepdim: bool, mean: bool) -> Result<Id> {
        let op = if mean { "mean" } else { "sum" };
        let x = self.get(op, a)?;
        let dims = resolve_dims(op, dims, x.ndim())?;
        if x.dtype() == DType::I32 && !mean {
            let out = sum_i32(op, &x, &dims, keepdim)?;
            return Ok(self.insert(out));
        }
        let x = x.to_f32(op)?;
        let n: usize = dims.iter().map(|&d| x.shape[d]).product();
        let scale = if mean { 1.0 / n as f64 } else { 1.0 };
        let out = sum_f32(op, &x, &dims, keepdim, scale)?;
        let shape = x.shape.clone();
        self.record(if mean { "MeanBackward" } else { "SumBackward" }, &[a], out, move || Op::Sum {
            shape,
            dims,
            keepdim,
            scale: scale as f32,
        })
    }

    /// `max(dim, keepdim)` / `min(...)`: (values, int32 indices).
    pub fn extremum_dim(&mut self, a: Id, dim: i64, keepdim: bool, is_max: bool) -> Result<(Id, Id)> {
        let op = if is_max { "max" } else { "min" };
        let x = self.get(op, a)?;
        let dim = normalize_dim(op, dim, x.ndim())?;
        // A 0-d input is reduced as [1] but keeps its 0-d shape in the result (as in
        // PyTorch) and in the gradient, which is g itself there.
        let scalar = x.ndim() == 0;
        let x = if scalar { x.with_shape(vec![1]) } else { x };
        let (values, index) = extremum_dim(op, &x, dim, keepdim && !scalar, is_max)?;
        let shape = x.shape.clone();
        let saved = index.clone();
        let name = if is_max { "MaxBackward" } else { "MinBackward" };
        let v = if scalar {
            self.record(name, &[a], values, || Op::Reshape { shape: vec![] })?
        } else {
            self.record(name, &[a], values, move || Op::ExtremumDim { shape, dim, keepdim, index: saved })?
        };
        Ok((v, self.insert(index)))
    }

    /// `max()` / `min()` over every element.
    pub fn extremum_all(&mut self, a: Id, is_max: bool) -> Result<Id> {
        let op = if is_max { "max" } else { "min" };
        let x = self.get(op, a)?;
        if x.numel() == 0 {
            return Err(Error::value(op, "cannot take the max or min of an empty tensor; give a dim or check the input"));
        }
        let flat = x.with_shape(vec![x.numel()]);
        let (values, _) = extremum_dim(op, &flat, 0, false, is_max)?;
        let saved = values.clone();
        self.record(if is_max { "MaxBackward" } else { "MinBackward" }, &[a], values, move || Op::ExtremumAll { x, out: saved })
    }

    /// `argmax(dim?, keepdim)`; without a dim, the index into the flattened tensor.
    pub fn arg_extremum(&mut self, a: Id, dim: Option<i64>, keepdim: bool, is_max: bool) -> Result<Id> {
        let op = if is_max { "argmax" } else { "argmin" };
        let x = self.get(op, a)?;
        if x.numel() == 0 {
            return Err(Error::value(op, "cannot take the argmax or argmin of an empty tensor"));
        }
        let index = match dim {
            Some(d) => {
                let d = normalize_dim(op, d, x.ndim())?;
                let x = if x.ndim() == 0 { x.with_shape(vec![1]) } else { x };
                extremum_dim(op, &x, d, keepdim, is_max)?.1
            }
            None => {
                let i = extremum_dim(op, &x.with_shape(vec![x.numel()]), 0, false, is_max)?.1;
                if keepdim {
                    i.with_shape(vec![1; x.ndim()])
                } else {
                    i
                }
            }
        };
        Ok(self.insert(index))
    }

    /// `var(dims, { correction, keepdim })`; `std` is its square root.
    pub fn var(&mut self, a: Id, dims: &[i64], correction: f32, keepdim: bool) -> Result<Id> {
        let x = self.get("var", a)?.to_f32("var")?;
        let dims = resolve_dims("var", dims, x.ndim())?;
        let out = var_values("var", &x, &dims, correction, keepdim)?;
        self.record("VarBackward", &[a], out, move || Op::Var { x, dims, correction, keepdim })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_extrema() {
        let x = Tensor::from_f32(vec![2, 3], vec![1., 5., 3., 4., 2., 6.]);
        let s = sum_f32("t", &x, &[1], false, 1.0).unwrap();
        assert_eq!(s.f32s("t").unwrap(), &[9.0, 12.0]);
        let s0 = sum_f32("t", &x, &[0], true, 0.5).unwrap();
        assert_eq!(s0.shape, vec![1, 3]);
        assert_eq!(s0.f32s("t").unwrap(), &[2.5, 3.5, 4.5]);
        let (v, i) = extremum_dim("t", &x, 1, false, true).unwrap();
        assert_eq!(v.f32s("t").unwrap(), &[5.0, 6.0]);
        assert_eq!(i.i32s("t").unwrap(), &[1, 2]);
        let back = sum_to_shape(&Tensor::full("t", &[4, 2, 3], 1.0).unwrap(), &[2, 1]).unwrap();
        assert_eq!(back.f32s("t").unwrap(), &[12.0, 12.0]);
        let v = var_values("t", &x, &[1], 1.0, false).unwrap();
        assert_eq!(v.f32s("t").unwrap(), &[4.0, 4.0]);
    }

    #[test]
    fn reductions_over_dim_0_of_a_0d_tensor_reduce_nothing() {
        let mut c = Context::new();
        let x = c.full(&[], 3.0, DType::F32).unwrap();
        for mean in [false, true] {
            let s = c.sum(x, &[-1], true, mean).unwrap();
            assert_eq!(c.get("t", s).unwrap().f32s("t").unwrap(), &[3.0]);
        }
        let v = c.var(x, &[0], 0.0, false).unwrap();
        assert_eq!(c.get("t", v).unwrap().f32s("t").unwrap(), &[0.0]);
    }

    #[test]
    fn max_over_dim_0_of_a_0d_tensor_stays_0d_in_value_and_gradient() {
        let mut c = Context::new();
        let x = c.full(&[], 2.0, DType::F32).unwrap();
        c.set_requires_grad(x, true).unwrap();
        let (v, _) = c.extremum_dim(x, 0, true, true).unwrap();
        assert_eq!(c.get("t", v).unwrap().shape, Vec::<usize>::new());
        c.backward(v, None, false).unwrap();
        let g = c.grad(x).unwrap().unwrap();
        assert_eq!(c.get("t", g).unwrap().shape, Vec::<usize>::new());
    }
}
