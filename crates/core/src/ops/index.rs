//! Indexing ops: indexSelect, gather, where, maskedFill. Indices and masks are int32.

use crate::autograd::Op;
use crate::buffer::{Buffer, DType};
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::ops::layout::expand_values;
use crate::ops::reduce::sum_to_shape;
use crate::shape::{broadcast_shapes, normalize_dim};
use crate::tensor::{new_f32, new_i32, Tensor};

fn split(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (shape[..dim].iter().product(), shape[dim], shape[dim + 1..].iter().product())
}

fn check_indices(op: &'static str, idx: &[i32], size: usize, dim: usize) -> Result<()> {
    if let Some(&bad) = idx.iter().find(|&&i| i < 0 || i as usize >= size) {
        return Err(Error::value(op, format!("index {} is out of bounds for dim {} with size {}", bad, dim, size)));
    }
    Ok(())
}

/// A mask as booleans: any non-zero element is true.
fn mask_bits(op: &'static str, m: &Tensor) -> Result<Vec<bool>> {
    Ok(match &*m.buf {
        Buffer::I32(v) => v.iter().map(|&x| x != 0).collect(),
        Buffer::F32(v) => {
            let _ = op;
            v.iter().map(|&x| x != 0.0).collect()
        }
    })
}

// d index_select = g added back at the selected rows (index_add)
pub fn index_select_backward(g: &Tensor, shape: &[usize], dim: usize, index: &Tensor) -> Result<Tensor> {
    let (outer, size, inner) = split(shape, dim);
    let (gs, is) = (g.f32s("index_select_backward")?, index.i32s("index_select_backward")?);
    let n = is.len();
    new_f32("index_select_backward", shape, |o| {
        for k in 0..outer {
            for (j, &i) in is.iter().enumerate() {
                let (src, dst) = ((k * n + j) * inner, (k * size + i as usize) * inner);
                for t in 0..inner {
                    o[dst + t] += gs[src + t];
                }
            }
        }
    })
}

/// For each element of an index tensor of shape `ishape`, the flat offset in the
/// input of shape `shape` that gather reads (index replaces the coordinate at `dim`).
fn gather_offsets(shape: &[usize], ishape: &[usize], dim: usize, idx: &[i32]) -> Vec<usize> {
    let nd = shape.len();
    let st = crate::shape::strides(shape);
    let mut pos = vec![0usize; nd];
    let mut out = Vec::with_capacity(idx.len());
    for &ix in idx {
        let mut off = 0;
        for d in 0..nd {
            off += st[d] * if d == dim { ix as usize } else { pos[d] };
        }
        out.push(off);
        let mut d = nd;
        while d > 0 {
            d -= 1;
            pos[d] += 1;
            if pos[d] < ishape[d] {
                break;
            }
            pos[d] = 0;
        }
    }
    out
}

// d gather = g scattered (added) back to the gathered positions
pub fn gather_backward(g: &Tensor, shape: &[usize], dim: usize, index: &Tensor) -> Result<Tensor> {
    let (gs, is) = (g.f32s("gather_backward")?, index.i32s("gather_backward")?);
    let offs = gather_offsets(shape, &index.shape, dim, is);
    new_f32("gather_backward", shape, |o| {
        for (k, &off) in offs.iter().enumerate() {
            o[off] += gs[k];
        }
    })
}

// d where = (g where cond, g where not cond), each summed to its input's shape
pub fn where_backward(g: &Tensor, cond: &Tensor, a: &[usize], b: &[usize]) -> Result<Vec<Option<Tensor>>> {
    let c = mask_bits("where_backward", &expand_values(cond, &g.shape)?)?;
    let gs = g.f32s("where_backward")?;
    let ga = new_f32("where_backward", &g.shape, |o| (0..o.len()).for_each(|i| o[i] = if c[i] { gs[i] } else { 0.0 }))?;
    let gb = new_f32("where_backward", &g.shape, |o| (0..o.len()).for_each(|i| o[i] = if c[i] { 0.0 } else { gs[i] }))?;
    Ok(vec![None, Some(sum_to_shape(&ga, a)?), Some(sum_to_shape(&gb, b)?)])
}

// d masked_fill = g where the mask is false, 0 where it was filled
pub fn masked_fill_backward(g: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let m = mask_bits("masked_fill_backward", &expand_values(mask, &g.shape)?)?;
    let gs = g.f32s("masked_fill_backward")?;
    new_f32("masked_fill_backward", &g.shape, |o| (0..o.len()).for_each(|i| o[i] = if m[i] { 0.0 } else { gs[i] }))
}

impl Context {
    pub fn index_select(&mut self, a: Id, dim: i64, index: Id) -> Result<Id> {
        let op = "indexSelect";
        let (x, ix) = (self.get(op, a)?, self.get(op, index)?);
        let is = ix.i32s(op)?;
        if ix.ndim() > 1 {
            return Err(Error::shape(op, format!("index must be 1-D but has shape {}", fmt_shape(&ix.shape))));
        }
        if x.ndim() == 0 {
            // Through a recorded reshape to [1], so that the gradient comes back 0-d.
            normalize_dim(op, dim, 0)?;
            let a1 = self.reshape(a, &[1])?;
            let r = self.index_select(a1, 0, index);
            self.free(a1);
            return r;
        }
        let dim = normalize_dim(op, dim, x.ndim())?;
        let (outer, size, inner) = split(&x.shape, dim);
        check_indices(op, is, size, dim)?;
        let mut shape = x.shape.clone();
        shape[dim] = is.len();
        crate::shape::numel(op, &shape)?;
        fn fill<T: Copy>(o: &mut [T], xs: &[T], is: &[i32], outer: usize, size: usize, inner: usize) {
            let n = is.len();
            for k in 0..outer {
                for (j, &i) in is.iter().enumerate() {
                    let (dst, src) = ((k * n + j) * inner, (k * size + i as usize) * inner);
                    o[dst..dst + inner].copy_from_slice(&xs[src..src + inner]);
                }
            }
        }
        let out = match &*x.buf {
            Buffer::F32(xs) => new_f32(op, &shape, |o| fill(o, xs, is, outer, size, inner))?,
            Buffer::I32(xs) => new_i32(op, &shape, |o| fill(o, xs, is, outer, size, inner))?,
        };
        let (xshape, saved) = (x.shape.clone(), ix.clone());
        self.record("IndexSelectBackward", &[a], out, move || Op::IndexSelect { shape: xshape, dim, index: saved })
    }

    pub fn gather(&mut self, a: Id, dim: i64, index: Id) -> Result<Id> {
        let op = "gather";
        let (x, ix) = (self.get(op, a)?, self.get(op, index)?);
        let is = ix.i32s(op)?;
        if ix.ndim() != x.ndim() {
            return Err(Error::shape(
                op,
                format!("index {} and input {} must have the same number of dims", fmt_shape(&ix.shape), fmt_shape(&x.shape)),
            ));
        }
        let dim = normalize_dim(op, dim, x.ndim().max(1))?;
        if x.ndim() == 0 {
            check_indices(op, is, 1, 0)?;
            let out = x.clone();
            return self.record("GatherBackward", &[a], out, move || Op::Reshape { shape: vec![] });
        }
        for d in 0..x.ndim() {
            if d != dim && ix.shape[d] > x.shape[d] {
                return Err(Error::shape(
                    op,
                    format!("index {} is larger than input {} at dim {} (only dim {} may be larger)", fmt_shape(&ix.shape), fmt_shape(&x.shape), d, dim),
                ));
            }
        }
        check_indices(op, is, x.shape[dim], dim)?;
        let offs = gather_offsets(&x.shape, &ix.shape, dim, is);
        let out = match &*x.buf {
            Buffer::F32(xs) => new_f32(op, &ix.shape, |o| offs.iter().enumerate().for_each(|(k, &f)| o[k] = xs[f]))?,
            Buffer::I32(xs) => new_i32(op, &ix.shape, |o| offs.iter().enumerate().for_each(|(k, &f)| o[k] = xs[f]))?,
        };
        let (xshape, saved) = (x.shape.clone(), ix.clone());
        self.record("GatherBackward", &[a], out, move || Op::Gather { shape: xshape, dim, index: saved })
    }

    /// `where(cond, a, b)`: a where cond is non-zero, else b; all three broadcast.
    pub fn where_(&mut self, cond: Id, a: Id, b: Id) -> Result<Id> {
        let op = "where";
        let (c, x, y) = (self.get(op, cond)?, self.get(op, a)?, self.get(op, b)?);
        let shape = broadcast_shapes(op, &broadcast_shapes(op, &c.shape, &x.shape)?, &y.shape)?;
        let bits = mask_bits(op, &expand_values(&c, &shape)?)?;
        let out = if x.dtype() == DType::I32 && y.dtype() == DType::I32 {
            let (xe, ye) = (expand_values(&x, &shape)?, expand_values(&y, &shape)?);
            let (xs, ys) = (xe.i32s(op)?, ye.i32s(op)?);
            new_i32(op, &shape, |o| (0..o.len()).for_each(|i| o[i] = if bits[i] { xs[i] } else { ys[i] }))?
        } else {
            let (xe, ye) = (expand_values(&x.to_f32(op)?, &shape)?, expand_values(&y.to_f32(op)?, &shape)?);
            let (xs, ys) = (xe.f32s(op)?, ye.f32s(op)?);
            new_f32(op, &shape, |o| (0..o.len()).for_each(|i| o[i] = if bits[i] { xs[i] } else { ys[i] }))?
        };
        let (ash, bsh) = (x.shape.clone(), y.shape.clone());
        self.record("WhereBackward", &[cond, a, b], out, move || Op::Where { cond: c, a: ash, b: bsh })
    }

    /// `maskedFill(mask, value)`: the mask must broadcast to the tensor's shape.
    pub fn masked_fill(&mut self, a: Id, mask: Id, value: f32) -> Result<Id> {
        let op = "maskedFill";
        let (x, m) = (self.get(op, a)?, self.get(op, mask)?);
        let shape = broadcast_shapes(op, &x.shape, &m.shape)?;
        if shape != x.shape {
            return Err(Error::shape(
                op,
                format!("mask of shape {} does not broadcast to the tensor's shape {}", fmt_shape(&m.shape), fmt_shape(&x.shape)),
            ));
        }
        let bits = mask_bits(op, &expand_values(&m, &shape)?)?;
        let out = match &*x.buf {
            Buffer::F32(xs) => new_f32(op, &shape, |o| (0..o.len()).for_each(|i| o[i] = if bits[i] { value } else { xs[i] }))?,
            Buffer::I32(xs) => {
                let v = value as i32;
                new_i32(op, &shape, |o| (0..o.len()).for_each(|i| o[i] = if bits[i] { v } else { xs[i] }))?
            }
        };
        self.record("MaskedFillBackward", &[a], out, move || Op::MaskedFill { mask: m })
    }
}
