//! softmax and logSoftmax along a dim, stable by subtracting the max.

use crate::autograd::Op;
use crate::context::{Context, Id};
use crate::error::Result;
use crate::shape::normalize_dim;
use crate::tensor::{new_f32, Tensor};

fn split(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    if shape.is_empty() {
        return (1, 1, 1);
    }
    (shape[..dim].iter().product(), shape[dim], shape[dim + 1..].iter().product())
}

/// Calls `f(lane)` with the offsets of each 1-D lane along `dim`, as (start, stride, len).
fn for_each_lane(shape: &[usize], dim: usize, mut f: impl FnMut(usize, usize, usize)) {
    let (outer, size, inner) = split(shape, dim);
    for o in 0..outer {
        for i in 0..inner {
            f(o * size * inner + i, inner, size);
        }
    }
}

pub fn softmax_values(x: &Tensor, dim: usize, log: bool) -> Result<Tensor> {
    let op = if log { "logSoftmax" } else { "softmax" };
    let xs = x.f32s(op)?;
    new_f32(op, &x.shape, |o| {
        for_each_lane(&x.shape, dim, |start, stride, len| {
            let at = |j: usize| start + j * stride;
            let m = (0..len).map(|j| xs[at(j)]).fold(f32::NEG_INFINITY, f32::max);
            // An all -inf lane has no finite max; shifting by 0 keeps it NaN-free where PyTorch is.
            let m = if m.is_finite() { m } else { 0.0 };
            let mut s = 0f64;
            for j in 0..len {
                s += ((xs[at(j)] - m) as f64).exp();
            }
            if log {
                // (x - m) - ln s keeps full precision where x - (m + ln s) would round.
                let ls = s.ln() as f32;
                for j in 0..len {
                    o[at(j)] = (xs[at(j)] - m) - ls;
                }
            } else {
                let inv = (1.0 / s) as f32;
                for j in 0..len {
                    o[at(j)] = (xs[at(j)] - m).exp() * inv;
                }
            }
        })
    })
}

// d softmax: gx = y ⊙ (g − Σ g⊙y)
pub fn softmax_backward(g: &Tensor, y: &Tensor, dim: usize) -> Result<Tensor> {
    let (gs, ys) = (g.f32s("softmax_backward")?, y.f32s("softmax_backward")?);
    new_f32("softmax_backward", &g.shape, |o| {
        for_each_lane(&g.shape, dim, |start, stride, len| {
            let dot: f32 = (0..len).map(|j| gs[start + j * stride] * ys[start + j * stride]).sum();
            for j in 0..len {
                let k = start + j * stride;
                o[k] = ys[k] * (gs[k] - dot);
            }
        })
    })
}

// d logSoftmax: gx = g − exp(y) Σ g
pub fn log_softmax_backward(g: &Tensor, y: &Tensor, dim: usize) -> Result<Tensor> {
    let (gs, ys) = (g.f32s("log_softmax_backward")?, y.f32s("log_softmax_backward")?);
    new_f32("log_softmax_backward", &g.shape, |o| {
        for_each_lane(&g.shape, dim, |start, stride, len| {
            let sum: f32 = (0..len).map(|j| gs[start + j * stride]).sum();
            for j in 0..len {
                let k = start + j * stride;
                o[k] = gs[k] - ys[k].exp() * sum;
            }
        })
    })
}

impl Context {
    pub fn softmax(&mut self, a: Id, dim: i64, log: bool) -> Result<Id> {
        let op = if log { "logSoftmax" } else { "softmax" };
        let x = self.get(op, a)?.to_f32(op)?;
        let dim = normalize_dim(op, dim, x.ndim())?;
        let out = softmax_values(&x, dim, log)?;
        let saved = out.clone();
        if log {
            self.record("LogSoftmaxBackward", &[a], out, move || Op::LogSoftmax { out: saved, dim })
        } else {
            self.record("SoftmaxBackward", &[a], out, move || Op::Softmax { out: saved, dim })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_for_large_inputs() {
        let x = Tensor::from_f32(vec![2, 2], vec![1000.0, 1001.0, -5.0, -5.0]);
        let y = softmax_values(&x, 1, false).unwrap();
        let ys = y.f32s("t").unwrap();
        assert!((ys[0] - 0.268_941_43).abs() < 1e-6 && (ys[2] - 0.5).abs() < 1e-7);
        let l = softmax_values(&x, 1, true).unwrap();
        assert!((l.f32s("t").unwrap()[1] + 0.313_261_7).abs() < 1e-6);
        let c = softmax_values(&x, 0, false).unwrap();
        assert!((c.f32s("t").unwrap()[0] - 1.0).abs() < 1e-7);
    }
}
