//! `linear(x, W, b) = x·Wᵀ + b` as one op, with W in PyTorch's [out, in] layout. The
//! GEMM reads W transposed in place, so neither direction copies a transpose.

use crate::autograd::Op;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::kernels::gemm::gemm;
use crate::tensor::{new_f32, new_f32_overwritten, Tensor};

/// x [.., in] → [.., out]: every leading dim is a row of one GEMM.
pub fn linear_values(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    let op = "linear";
    if w.ndim() != 2 || x.ndim() == 0 || x.shape[x.ndim() - 1] != w.shape[1] {
        return Err(Error::shape(
            op,
            format!(
                "input of shape {} cannot be multiplied by weight of shape {} (expected the input's last dim to equal the weight's second dim)",
                fmt_shape(&x.shape),
                fmt_shape(&w.shape)
            ),
        ));
    }
    let (inp, out) = (w.shape[1], w.shape[0]);
    if let Some(b) = b {
        if b.shape != [out] {
            return Err(Error::shape(op, format!("bias must have shape [{}], got {}", out, fmt_shape(&b.shape))));
        }
    }
    let rows = x.numel() / inp.max(1);
    let mut shape = x.shape.clone();
    *shape.last_mut().unwrap_or(&mut 0) = out;
    let (xs, ws) = (x.f32s(op)?, w.f32s(op)?);
    let bs = match b {
        Some(b) => Some(b.f32s(op)?),
        None => None,
    };
    new_f32_overwritten(op, &shape, |o| {
        if let Some(bs) = bs {
            for r in 0..rows {
                o[r * out..(r + 1) * out].copy_from_slice(bs);
            }
        }
        gemm(rows, out, inp, xs, false, ws, true, o, bs.is_some());
    })
}

// y = x·Wᵀ + b  ⇒  dx = g·W,  dW = gᵀ·x,  db = Σ_rows g
/// Gradients of (input, weight[, bias]); `need` says which of input and weight the graph wants,
/// so a first layer skips the GEMM of an input gradient nobody reads.
pub fn linear_backward(g: &Tensor, x: &Tensor, w: &Tensor, has_bias: bool, need: [bool; 2]) -> Result<Vec<Option<Tensor>>> {
    let op = "linear_backward";
    let (inp, out) = (w.shape[1], w.shape[0]);
    let rows = x.numel() / inp.max(1);
    let (gs, xs, ws) = (g.f32s(op)?, x.f32s(op)?, w.f32s(op)?);
    let gx = if need[0] { Some(new_f32_overwritten(op, &x.shape, |o| gemm(rows, inp, out, gs, false, ws, false, o, false))?) } else { None };
    let gw = if need[1] { Some(new_f32_overwritten(op, &w.shape, |o| gemm(out, inp, rows, gs, true, xs, false, o, false))?) } else { None };
    let gb = if has_bias {
        Some(new_f32(op, &[out], |o| {
            for r in 0..rows {
                for (acc, &v) in o.iter_mut().zip(&gs[r * out..(r + 1) * out]) {
                    *acc += v;
                }
            }
        })?)
    } else {
        None
    };
    Ok(vec![gx, gw, gb])
}

impl Context {
    pub fn linear(&mut self, x: Id, w: Id, b: Option<Id>) -> Result<Id> {
        let op = "linear";
        let (xv, wv) = (self.get(op, x)?.to_f32(op)?, self.get(op, w)?.to_f32(op)?);
        let bv = match b {
            Some(b) => Some(self.get(op, b)?.to_f32(op)?),
            None => None,
        };
        let out = linear_values(&xv, &wv, bv.as_ref())?;
        let inputs: Vec<Id> = match b {
            Some(b) => vec![x, w, b],
            None => vec![x, w],
        };
        let has_bias = b.is_some();
        let need = [self.entry(op, x)?.requires_grad, self.entry(op, w)?.requires_grad];
        self.record("AddmmBackward", &inputs, out, move || Op::Linear { x: xv, w: wv, has_bias, need })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computation() {
        let x = Tensor::from_f32(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]);
        let w = Tensor::from_f32(vec![2, 3], vec![1., 0., -1., 0.5, 0.5, 0.5]);
        let b = Tensor::from_f32(vec![2], vec![10., 20.]);
        let y = linear_values(&x, &w, Some(&b)).unwrap();
        assert_eq!(y.f32s("t").unwrap(), &[8.0, 23.0, 8.0, 27.5]);
        let g = Tensor::from_f32(vec![2, 2], vec![1., 0., 0., 1.]);
        let grads = linear_backward(&g, &x, &w, true, [true, true]).unwrap();
        assert_eq!(grads[0].as_ref().unwrap().f32s("t").unwrap(), &[1., 0., -1., 0.5, 0.5, 0.5]);
        assert_eq!(grads[1].as_ref().unwrap().f32s("t").unwrap(), &[1., 2., 3., 4., 5., 6.]);
        assert_eq!(grads[2].as_ref().unwrap().f32s("t").unwrap(), &[1., 1.]);
        let only_w = linear_backward(&g, &x, &w, true, [false, true]).unwrap();
        assert!(only_w[0].is_none());
        assert_eq!(only_w[1].as_ref().unwrap().f32s("t").unwrap(), grads[1].as_ref().unwrap().f32s("t").unwrap());
        assert!(linear_values(&x, &b, None).is_err());
    }
}
