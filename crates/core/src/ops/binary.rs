//! Elementwise binary ops with NumPy broadcasting: arithmetic (differentiable) and
//! comparisons (int32 0/1 results, no gradient). Scalars arrive as 0-d tensors.

use crate::autograd::Op;
use crate::buffer::DType;
use crate::context::{Context, Id};
use crate::error::{Error, Result};
use crate::ops::layout::expand_values;
use crate::ops::reduce::sum_to_shape;
use crate::ops::unary::map_f32;
use crate::shape::{broadcast_shapes, broadcast_strides};
use crate::tensor::{new_f32, new_f32_overwritten, new_i32, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 11] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
    ];
    pub fn from_code(code: u32) -> Result<BinaryOp> {
        BinaryOp::ALL.get(code as usize).copied().ok_or_else(|| Error::value("binary", format!("unknown binary op code {}", code)))
    }
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
        }
    }
    fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge)
    }
}

/// Writes `f(a[i'], b[i''])` for every element of the broadcast shape `out_shape`,
/// running the innermost dim as a tight loop.
#[inline(always)]
fn broadcast_zip<T: Copy, U>(a: &[T], ash: &[usize], b: &[T], bsh: &[usize], out_shape: &[usize], out: &mut [U], f: impl Fn(T, T) -> U) {
    if ash == bsh {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = f(x, y);
        }
        return;
    }
    if b.len() == 1 {
        let y = b[0];
        for (o, &x) in out.iter_mut().zip(a) {
            *o = f(x, y);
        }
        if a.len() == out.len() {
            return;
        }
    }
    if a.len() == 1 && b.len() == out.len() {
        let x = a[0];
        for (o, &y) in out.iter_mut().zip(b) {
            *o = f(x, y);
        }
        return;
    }
    let nd = out_shape.len();
    let sa = broadcast_strides(ash, out_shape);
    let sb = broadcast_strides(bsh, out_shape);
    let inner = out_shape[nd - 1];
    let (ia, ib) = (sa[nd - 1], sb[nd - 1]);
    let rows = out.len() / inner.max(1);
    let mut idx = vec![0usize; nd];
    let (mut oa, mut ob) = (0usize, 0usize);
    for r in 0..rows {
        let row = &mut out[r * inner..(r + 1) * inner];
        for (j, o) in row.iter_mut().enumerate() {
            *o = f(a[oa + j * ia], b[ob + j * ib]);
        }
        // Advance the outer index (all dims but the last) like an odometer.
        let mut d = nd - 1;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            oa += sa[d];
            ob += sb[d];
            if idx[d] < out_shape[d] {
                break;
            }
            oa -= sa[d] * out_shape[d];
            ob -= sb[d] * out_shape[d];
            idx[d] = 0;
        }
    }
}

fn int_pow(op: &'static str, base: i32, exp: i32) -> Result<i32> {
    if exp < 0 {
        return Err(Error::value(op, "integers to negative integer powers are not allowed; call .float() on the base first"));
    }
    Ok(base.wrapping_pow(exp as u32))
}

/// The value of `a op b` with broadcasting and PyTorch's type promotion: int32 with
/// int32 stays int32 (except true division), anything with float32 is float32.
pub fn binary_values(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let name = op.name();
    let shape = broadcast_shapes(name, &a.shape, &b.shape)?;
    let both_int = a.dtype() == DType::I32 && b.dtype() == DType::I32;
    if both_int && op != BinaryOp::Div {
        let (x, y) = (a.i32s(name)?, b.i32s(name)?);
        if op == BinaryOp::Pow && y.iter().any(|&e| e < 0) {
            int_pow(name, 1, -1)?;
        }
        return new_i32(name, &shape, |o| {
            // One monomorphised loop per op: a function pointer would block inlining.
            macro_rules! run {
                ($f:expr) => {
                    broadcast_zip(x, &a.shape, y, &b.shape, &shape, o, $f)
                };
            }
            match op {
                BinaryOp::Add => run!(|p: i32, q: i32| p.wrapping_add(q)),
                BinaryOp::Sub => run!(|p: i32, q: i32| p.wrapping_sub(q)),
                BinaryOp::Mul => run!(|p: i32, q: i32| p.wrapping_mul(q)),
                BinaryOp::Pow => run!(|p: i32, q: i32| p.wrapping_pow(q as u32)),
                BinaryOp::Eq => run!(|p: i32, q: i32| (p == q) as i32),
                BinaryOp::Ne => run!(|p: i32, q: i32| (p != q) as i32),
                BinaryOp::Lt => run!(|p: i32, q: i32| (p < q) as i32),
                BinaryOp::Le => run!(|p: i32, q: i32| (p <= q) as i32),
                BinaryOp::Gt => run!(|p: i32, q: i32| (p > q) as i32),
                BinaryOp::Ge => run!(|p: i32, q: i32| (p >= q) as i32),
                BinaryOp::Div => run!(|p: i32, q: i32| p / q.max(1)), // unreachable: Div promotes to float
            }
        });
    }
    let (af, bf) = (a.to_f32(name)?, b.to_f32(name)?);
    let (x, y) = (af.f32s(name)?, bf.f32s(name)?);
    if op.is_comparison() {
        return new_i32(name, &shape, |o| {
            macro_rules! run {
                ($f:expr) => {
                    broadcast_zip(x, &a.shape, y, &b.shape, &shape, o, $f)
                };
            }
            match op {
                BinaryOp::Eq => run!(|p: f32, q: f32| (p == q) as i32),
                BinaryOp::Ne => run!(|p: f32, q: f32| (p != q) as i32),
                BinaryOp::Lt => run!(|p: f32, q: f32| (p < q) as i32),
                BinaryOp::Le => run!(|p: f32, q: f32| (p <= q) as i32),
                BinaryOp::Gt => run!(|p: f32, q: f32| (p > q) as i32),
                _ => run!(|p: f32, q: f32| (p >= q) as i32),
            }
        });
    }
    new_f32_overwritten(name, &shape, |o| {
        macro_rules! run {
            ($f:expr) => {
                broadcast_zip(x, &a.shape, y, &b.shape, &shape, o, $f)
            };
        }
        match op {
            BinaryOp::Add => run!(|p: f32, q: f32| p + q),
            BinaryOp::Sub => run!(|p: f32, q: f32| p - q),
            BinaryOp::Mul => run!(|p: f32, q: f32| p * q),
            BinaryOp::Div => run!(|p: f32, q: f32| p / q),
            _ => run!(|p: f32, q: f32| p.powf(q)),
        }
    })
}

/// `a + b` on float32 values of broadcastable shapes (used by gradient accumulation).
pub fn add_values(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary_values(BinaryOp::Add, a, b)
}

pub fn mul_values(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary_values(BinaryOp::Mul, a, b)
}

/// `f(x, y)` elementwise on two float32 tensors of the same shape.
pub fn zip_f32(op: &'static str, x: &Tensor, y: &Tensor, f: impl Fn(f32, f32) -> f32) -> Result<Tensor> {
    let (xs, ys) = (x.f32s(op)?, y.f32s(op)?);
    new_f32(op, &x.shape, |o| {
        for ((o, &p), &q) in o.iter_mut().zip(xs).zip(ys) {
            *o = f(p, q);
        }
    })
}

// d(a+b) = (g, g), each summed back to its input's shape.
pub fn add_backward(g: &Tensor, a: &[usize], b: &[usize]) -> Result<Vec<Option<Tensor>>> {
    Ok(vec![Some(sum_to_shape(g, a)?), Some(sum_to_shape(g, b)?)])
}

// d(a-b) = (g, -g)
pub fn sub_backward(g: &Tensor, a: &[usize], b: &[usize]) -> Result<Vec<Option<Tensor>>> {
    let neg = map_f32("sub_backward", g, |x| -x)?;
    Ok(vec![Some(sum_to_shape(g, a)?), Some(sum_to_shape(&neg, b)?)])
}

// d(a·b) = (g·b, g·a)
pub fn mul_backward(g: &Tensor, a: &Tensor, b: &Tensor) -> Result<Vec<Option<Tensor>>> {
    let ga = sum_to_shape(&mul_values(g, &b.to_f32("mul_backward")?)?, &a.shape)?;
    let gb = sum_to_shape(&mul_values(g, &a.to_f32("mul_backward")?)?, &b.shape)?;
    Ok(vec![Some(ga), Some(gb)])
}

// d(a/b) = (g/b, -g·a/b²)
pub fn div_backward(g: &Tensor, a: &Tensor, b: &Tensor) -> Result<Vec<Option<Tensor>>> {
    let (a32, b32) = (a.to_f32("div_backward")?, b.to_f32("div_backward")?);
    let ga = sum_to_shape(&binary_values(BinaryOp::Div, g, &b32)?, &a.shape)?;
    let (ae, be) = (expand_values(&a32, &g.shape)?, expand_values(&b32, &g.shape)?);
    let (gs, xs, ys) = (g.f32s("div_backward")?, ae.f32s("div_backward")?, be.f32s("div_backward")?);
    let gb_full = new_f32("div_backward", &g.shape, |o| {
        for i in 0..o.len() {
            o[i] = -gs[i] * xs[i] / (ys[i] * ys[i]);
        }
    })?;
    Ok(vec![Some(ga), Some(sum_to_shape(&gb_full, &b.shape)?)])
}

// d(a^b) = (g·b·a^(b-1), g·a^b·ln a), with PyTorch's zeros where b = 0 (first) and
// where a = 0, b ≥ 0 (second) instead of NaN.
pub fn pow_backward(g: &Tensor, a: &Tensor, b: &Tensor, out: &Tensor) -> Result<Vec<Option<Tensor>>> {
    let op = "pow_backward";
    let (ae, be) = (expand_values(&a.to_f32(op)?, &g.shape)?, expand_values(&b.to_f32(op)?, &g.shape)?);
    let (gs, xs, ys, os) = (g.f32s(op)?, ae.f32s(op)?, be.f32s(op)?, out.f32s(op)?);
    let ga = new_f32(op, &g.shape, |o| {
        for i in 0..o.len() {
            o[i] = if ys[i] == 0.0 { 0.0 } else { gs[i] * ys[i] * xs[i].powf(ys[i] - 1.0) };
        }
    })?;
    let gb = new_f32(op, &g.shape, |o| {
        for i in 0..o.len() {
            o[i] = if xs[i] == 0.0 && ys[i] >= 0.0 { 0.0 } else { gs[i] * os[i] * xs[i].ln() };
        }
    })?;
    Ok(vec![Some(sum_to_shape(&ga, &a.shape)?), Some(sum_to_shape(&gb, &b.shape)?)])
}

impl Context {
    pub fn binary(&mut self, op: BinaryOp, a: Id, b: Id) -> Result<Id> {
        let (x, y) = (self.get(op.name(), a)?, self.get(op.name(), b)?);
        let out = binary_values(op, &x, &y)?;
        let name = match op {
            BinaryOp::Add => "AddBackward",
            BinaryOp::Sub => "SubBackward",
            BinaryOp::Mul => "MulBackward",
            BinaryOp::Div => "DivBackward",
            BinaryOp::Pow => "PowBackward",
            _ => return Ok(self.insert(out)),
        };
        let saved = out.clone();
        self.record(name, &[a, b], out, move || match op {
            BinaryOp::Add => Op::Add { a: x.shape, b: y.shape },
            BinaryOp::Sub => Op::Sub { a: x.shape, b: y.shape },
            BinaryOp::Mul => Op::Mul { a: x, b: y },
            BinaryOp::Div => Op::Div { a: x, b: y },
            _ => Op::Pow { a: x, b: y, out: saved },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_and_promotion() {
        let a = Tensor::from_f32(vec![2, 1], vec![1.0, 2.0]);
        let b = Tensor::from_i32(vec![3], vec![10, 20, 30]);
        let c = binary_values(BinaryOp::Add, &a, &b).unwrap();
        assert_eq!(c.shape, vec![2, 3]);
        assert_eq!(c.f32s("t").unwrap(), &[11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
        let i = binary_values(BinaryOp::Mul, &b, &b).unwrap();
        assert_eq!(i.i32s("t").unwrap(), &[100, 400, 900]);
        let d = binary_values(BinaryOp::Div, &b, &Tensor::from_i32(vec![], vec![4])).unwrap();
        assert_eq!(d.f32s("t").unwrap(), &[2.5, 5.0, 7.5]);
        let m = binary_values(BinaryOp::Gt, &a, &Tensor::from_f32(vec![], vec![1.5])).unwrap();
        assert_eq!(m.i32s("t").unwrap(), &[0, 1]);
        assert!(binary_values(BinaryOp::Pow, &b, &Tensor::from_i32(vec![], vec![-1])).is_err());
    }

    #[test]
    fn middle_dim_broadcast() {
        let a = Tensor::from_f32(vec![2, 1, 2], vec![1.0, 2.0, 3.0, 4.0]);
        let b = Tensor::from_f32(vec![3, 1], vec![10.0, 20.0, 30.0]);
        let c = binary_values(BinaryOp::Add, &a, &b).unwrap();
        assert_eq!(c.shape, vec![2, 3, 2]);
        assert_eq!(c.f32s("t").unwrap(), &[11., 12., 21., 22., 31., 32., 13., 14., 23., 24., 33., 34.]);
    }
}
