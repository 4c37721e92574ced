//! matmul with PyTorch's semantics: 1-D·1-D dot, matrix·vector, vector·matrix, and
//! batched products whose batch dims broadcast. Every case runs on the packed GEMM,
//! whose transpose flags serve the backward pass without materialising transposes.

use crate::autograd::Op;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::kernels::gemm::gemm;
use crate::ops::reduce::sum_to_shape;
use crate::shape::{broadcast_shapes, broadcast_strides, for_each_offset, numel};
use crate::tensor::{new_f32_overwritten, Tensor};

/// Splits `[..batch, r, c]` into (batch dims, r, c).
fn split(shape: &[usize]) -> (&[usize], usize, usize) {
    let n = shape.len();
    (&shape[..n - 2], shape[n - 2], shape[n - 1])
}

/// `op(A)·op(B)` for operands of at least 2 dims whose batch dims broadcast.
/// With `ta`, A is stored `[.., k, m]`; with `tb`, B is stored `[.., n, k]`.
fn batched(op: &'static str, a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Result<Tensor> {
    let (ab, ar, ac) = split(&a.shape);
    let (bb, br, bc) = split(&b.shape);
    let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
    let (k2, n) = if tb { (bc, br) } else { (br, bc) };
    if k != k2 {
        return Err(Error::shape(
            op,
            format!("cannot multiply {} by {}: inner dimensions {} and {} differ", fmt_shape(&a.shape), fmt_shape(&b.shape), k, k2),
        ));
    }
    let batch = broadcast_shapes(op, ab, bb)?;
    let mut out_shape = batch.clone();
    out_shape.extend_from_slice(&[m, n]);
    numel(op, &out_shape)?;
    let (xs, ys) = (a.f32s(op)?, b.f32s(op)?);
    let mut a_offs = Vec::new();
    for_each_offset(&batch, &broadcast_strides(ab, &batch), |_, o| a_offs.push(o * m * k));
    let mut b_offs = Vec::new();
    for_each_offset(&batch, &broadcast_strides(bb, &batch), |_, o| b_offs.push(o * k * n));
    new_f32_overwritten(op, &out_shape, |o| {
        for (t, (&ao, &bo)) in a_offs.iter().zip(&b_offs).enumerate() {
            gemm(m, n, k, &xs[ao..ao + m * k], ta, &ys[bo..bo + k * n], tb, &mut o[t * m * n..(t + 1) * m * n], false);
        }
    })
}

/// Lifts 1-D operands to matrices as PyTorch does: a vector on the left is a row
/// `[1, k]`, on the right a column `[k, 1]`.
fn as_matrices(a: &Tensor, b: &Tensor) -> (Tensor, Tensor) {
    let a2 = if a.ndim() == 1 { a.with_shape(vec![1, a.shape[0]]) } else { a.clone() };
    let b2 = if b.ndim() == 1 { b.with_shape(vec![b.shape[0], 1]) } else { b.clone() };
    (a2, b2)
}

/// The result shape with the lifted unit dims removed again.
fn result_shape(a: &Tensor, b: &Tensor, full: &[usize]) -> Vec<usize> {
    let mut s = full.to_vec();
    if b.ndim() == 1 {
        s.pop();
    }
    if a.ndim() == 1 {
        let n = s.len();
        s.remove(n - if b.ndim() == 1 { 1 } else { 2 });
    }
    s
}

pub fn matmul_values(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err(Error::shape(
            "matmul",
            format!("both arguments need at least 1 dim, got {} and {}; use mul for scalars", fmt_shape(&a.shape), fmt_shape(&b.shape)),
        ));
    }
    let (a2, b2) = as_matrices(a, b);
    let full = batched("matmul", &a2, false, &b2, false)?;
    let shape = result_shape(a, b, &full.shape);
    Ok(full.with_shape(shape))
}

// C = A·B  ⇒  dA = dC·Bᵀ, dB = Aᵀ·dC, each summed over broadcast batch dims
/// Gradients of (a, b), each only when `need` says the graph wants it.
pub fn matmul_backward(g: &Tensor, a: &Tensor, b: &Tensor, need: [bool; 2]) -> Result<Vec<Option<Tensor>>> {
    let (a2, b2) = as_matrices(a, b);
    let (ab, m, _) = split(&a2.shape);
    let (bb, _, n) = split(&b2.shape);
    let mut gshape = broadcast_shapes("matmul_backward", ab, bb)?;
    gshape.extend_from_slice(&[m, n]);
    let g2 = g.with_shape(gshape);
    let ga = if need[0] {
        let ga = batched("matmul_backward", &g2, false, &b2, true)?;
        Some(sum_to_shape(&ga, &a2.shape)?.with_shape(a.shape.clone()))
    } else {
        None
    };
    let gb = if need[1] {
        let gb = batched("matmul_backward", &a2, true, &g2, false)?;
        Some(sum_to_shape(&gb, &b2.shape)?.with_shape(b.shape.clone()))
    } else {
        None
    };
    Ok(vec![ga, gb])
}

impl Context {
    pub fn matmul(&mut self, a: Id, b: Id) -> Result<Id> {
        let (x, y) = (self.get("matmul", a)?, self.get("matmul", b)?);
        let out = matmul_values(&x, &y)?;
        let need = [self.entry("matmul", a)?.requires_grad, self.entry("matmul", b)?.requires_grad];
        self.record("MmBackward", &[a, b], out, move || Op::Matmul { a: x, b: y, need })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_pytorch() {
        let a = Tensor::from_f32(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]);
        let v = Tensor::from_f32(vec![3], vec![1., 0., -1.]);
        assert_eq!(matmul_values(&a, &v).unwrap().f32s("t").unwrap(), &[-2.0, -2.0]);
        assert_eq!(matmul_values(&v, &v).unwrap().shape, Vec::<usize>::new());
        let bt = Tensor::from_f32(vec![4, 3, 2], vec![1.0; 24]);
        let c = matmul_values(&a, &bt).unwrap();
        assert_eq!(c.shape, vec![4, 2, 2]);
        assert_eq!(c.f32s("t").unwrap()[..4], [6.0, 6.0, 15.0, 15.0]);
        let e = matmul_values(&a, &a).unwrap_err();
        assert_eq!(e.to_string(), "matmul: cannot multiply [2, 3] by [2, 3]: inner dimensions 3 and 2 differ");
    }
}
