//! Joining and slicing along a dim: cat, stack, narrow (slice), select.

use crate::autograd::Op;
use crate::buffer::{Buffer, DType};
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::shape::normalize_dim;
use crate::tensor::{new_f32, new_i32, Tensor};

fn outer_inner(shape: &[usize], dim: usize) -> (usize, usize) {
    (shape[..dim].iter().product(), shape[dim + 1..].iter().product())
}

/// Copies `parts` (already of one dtype) one after another along `dim`.
fn cat_values(parts: &[Tensor], dim: usize, out_shape: &[usize]) -> Result<Tensor> {
    fn fill<T: Copy>(o: &mut [T], parts: &[&[T]], sizes: &[usize], outer: usize, inner: usize, total: usize) {
        let mut at = 0;
        for (xs, &s) in parts.iter().zip(sizes) {
            for k in 0..outer {
                let dst = (k * total + at) * inner;
                o[dst..dst + s * inner].copy_from_slice(&xs[k * s * inner..(k + 1) * s * inner]);
            }
            at += s;
        }
    }
    let (outer, inner) = outer_inner(out_shape, dim);
    let sizes: Vec<usize> = parts.iter().map(|p| p.shape[dim]).collect();
    let total = out_shape[dim];
    if parts[0].dtype() == DType::F32 {
        let xs = parts.iter().map(|p| p.f32s("cat")).collect::<Result<Vec<_>>>()?;
        new_f32("cat", out_shape, |o| fill(o, &xs, &sizes, outer, inner, total))
    } else {
        let xs = parts.iter().map(|p| p.i32s("cat")).collect::<Result<Vec<_>>>()?;
        new_i32("cat", out_shape, |o| fill(o, &xs, &sizes, outer, inner, total))
    }
}

/// Elements `start..start+len` of `dim`.
pub fn narrow_values(x: &Tensor, dim: usize, start: usize, len: usize) -> Result<Tensor> {
    let (outer, inner) = outer_inner(&x.shape, dim);
    let size = x.shape[dim];
    let mut shape = x.shape.clone();
    shape[dim] = len;
    fn fill<T: Copy>(o: &mut [T], xs: &[T], outer: usize, size: usize, start: usize, len: usize, inner: usize) {
        for k in 0..outer {
            let src = (k * size + start) * inner;
            o[k * len * inner..(k + 1) * len * inner].copy_from_slice(&xs[src..src + len * inner]);
        }
    }
    match &*x.buf {
        Buffer::F32(xs) => new_f32("narrow", &shape, |o| fill(o, xs, outer, size, start, len, inner)),
        Buffer::I32(xs) => new_i32("narrow", &shape, |o| fill(o, xs, outer, size, start, len, inner)),
    }
}

// d cat = the matching slice of g for each input
pub fn cat_backward(g: &Tensor, dim: usize, sizes: &[usize]) -> Result<Vec<Option<Tensor>>> {
    let mut at = 0;
    let mut out = Vec::with_capacity(sizes.len());
    for &s in sizes {
        out.push(Some(narrow_values(g, dim, at, s)?));
        at += s;
    }
    Ok(out)
}

// d narrow = g placed back at its offset, zeros elsewhere
pub fn narrow_backward(g: &Tensor, shape: &[usize], dim: usize, start: usize) -> Result<Tensor> {
    let (outer, inner) = outer_inner(shape, dim);
    let (size, len) = (shape[dim], g.shape[dim]);
    let gs = g.f32s("narrow_backward")?;
    new_f32("narrow_backward", shape, |o| {
        for k in 0..outer {
            let dst = (k * size + start) * inner;
            o[dst..dst + len * inner].copy_from_slice(&gs[k * len * inner..(k + 1) * len * inner]);
        }
    })
}

impl Context {
    pub fn cat(&mut self, ids: &[Id], dim: i64) -> Result<Id> {
        if ids.is_empty() {
            return Err(Error::value("cat", "expected a non-empty list of tensors"));
        }
        let mut parts = ids.iter().map(|&i| self.get("cat", i)).collect::<Result<Vec<_>>>()?;
        let first = parts[0].shape.clone();
        if first.is_empty() {
            return Err(Error::shape("cat", "zero-dimensional tensors cannot be concatenated; use stack instead"));
        }
        let dim = normalize_dim("cat", dim, first.len())?;
        let mut out_shape = first.clone();
        out_shape[dim] = 0;
        for (k, p) in parts.iter().enumerate() {
            let same_rank = p.ndim() == first.len();
            if !same_rank || p.shape.iter().zip(&first).enumerate().any(|(d, (a, b))| d != dim && a != b) {
                return Err(Error::shape(
                    "cat",
                    format!(
                        "tensor {} has shape {} but tensor 0 has shape {}; all sizes must match except in dim {}",
                        k,
                        fmt_shape(&p.shape),
                        fmt_shape(&first),
                        dim
                    ),
                ));
            }
            out_shape[dim] += p.shape[dim];
        }
        if parts.iter().any(|p| p.dtype() == DType::F32) {
            parts = parts.iter().map(|p| p.to_f32("cat")).collect::<Result<Vec<_>>>()?;
        }
        crate::shape::numel("cat", &out_shape)?;
        let out = cat_values(&parts, dim, &out_shape)?;
        let sizes = parts.iter().map(|p| p.shape[dim]).collect();
        self.record("CatBackward", ids, out, move || Op::Cat { dim, sizes })
    }

    pub fn stack(&mut self, ids: &[Id], dim: i64) -> Result<Id> {
        if ids.is_empty() {
            return Err(Error::value("stack", "expected a non-empty list of tensors"));
        }
        let first = self.get("stack", ids[0])?.shape;
        let d = normalize_dim("stack", dim, first.len() + 1)?;
        let mut unsq = Vec::with_capacity(ids.len());
        for (k, &i) in ids.iter().enumerate() {
            let s = self.get("stack", i)?.shape;
            if s != first {
                for u in unsq {
                    self.free(u);
                }
                return Err(Error::shape(
                    "stack",
                    format!("stack expects each tensor to be equal size, but tensor 0 has shape {} and tensor {} has {}", fmt_shape(&first), k, fmt_shape(&s)),
                ));
            }
            let mut ns: Vec<i64> = s.iter().map(|&v| v as i64).collect();
            ns.insert(d, 1);
            unsq.push(self.reshape(i, &ns)?);
        }
        let r = self.cat(&unsq, d as i64);
        for u in unsq {
            self.free(u);
        }
        r
    }

    /// `narrow(dim, start, length)`; negative `start` counts from the end.
    pub fn narrow(&mut self, a: Id, dim: i64, start: i64, length: i64) -> Result<Id> {
        let x = self.get("narrow", a)?;
        if x.ndim() == 0 {
            return Err(Error::shape("narrow", "cannot narrow a 0-d tensor"));
        }
        let dim = normalize_dim("narrow", dim, x.ndim())?;
        let size = x.shape[dim] as i64;
        let s = if start < 0 { start + size } else { start };
        // `length > size - s` rather than `s + length > size`, which wraps for huge lengths.
        if s < 0 || s > size || length < 0 || length > size - s {
            return Err(Error::value(
                "narrow",
                format!("start {} with length {} is out of range for dim {} of size {} (shape {})", start, length, dim, size, fmt_shape(&x.shape)),
            ));
        }
        let out = narrow_values(&x, dim, s as usize, length as usize)?;
        let shape = x.shape.clone();
        self.record("NarrowBackward", &[a], out, move || Op::Narrow { shape, dim, start: s as usize })
    }

    /// `select(dim, index)`: narrow to one element and drop the dim.
    pub fn select(&mut self, a: Id, dim: i64, index: i64) -> Result<Id> {
        let x = self.get("select", a)?;
        if x.ndim() == 0 {
            return Err(Error::shape("select", "cannot select from a 0-d tensor"));
        }
        let d = normalize_dim("select", dim, x.ndim())?;
        let size = x.shape[d] as i64;
        if index < -size || index >= size {
            return Err(Error::value(
                "select",
                format!("index {} is out of range for dim {} of size {} (expected -{} ≤ index < {})", index, d, size, size, size),
            ));
        }
        let i = if index < 0 { index + size } else { index };
        let n = self.narrow(a, d as i64, i, 1)?;
        let mut shape: Vec<i64> = x.shape.iter().map(|&v| v as i64).collect();
        shape.remove(d);
        let r = self.reshape(n, &shape);
        self.free(n);
        r
    }
}
