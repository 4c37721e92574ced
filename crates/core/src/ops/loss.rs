//! Fused, numerically stable losses: cross-entropy (log-softmax and the weighted,
//! smoothed negative log-likelihood in one pass) and binary cross-entropy on logits.
//! Both return per-element losses; the caller reduces them.

use crate::autograd::Op;
use crate::buffer::DType;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::ops::softmax::softmax_values;
use crate::tensor::{new_f32, Tensor};

/// Options of cross-entropy with class-index targets.
#[derive(Debug, Clone, Copy)]
pub struct CrossEntropyOptions {
    pub ignore_index: i64,
    pub label_smoothing: f32,
}

/// (outer, classes, inner) of logits whose class dim is 1 (or 0 when unbatched 1-D).
fn lanes(shape: &[usize]) -> (usize, usize, usize) {
    match shape.len() {
        1 => (1, shape[0], 1),
        _ => (shape[0], shape[1], shape[2..].iter().product()),
    }
}

/// The target distribution q (same shape as the logits) for class-index targets:
/// q = (1-ε)·w[y]·onehot(y) + (ε/C)·w, zero for ignored positions.
/// Also returns Σ w[y] over non-ignored positions, the 'mean' denominator.
fn index_targets(op: &'static str, x: &Tensor, target: &Tensor, weight: Option<&Tensor>, o: CrossEntropyOptions) -> Result<(Tensor, f64)> {
    let (outer, c, inner) = lanes(&x.shape);
    let ys = target.i32s(op)?;
    let ws: Option<&[f32]> = match weight {
        Some(w) => Some(w.f32s(op)?),
        None => None,
    };
    for &y in ys {
        if y as i64 != o.ignore_index && (y < 0 || y as usize >= c) {
            return Err(Error::value(
                op,
                format!("target {} is out of bounds for {} classes (expected 0 ≤ target < {}, or ignoreIndex {})", y, c, c, o.ignore_index),
            ));
        }
    }
    let eps = o.label_smoothing;
    let mut denom = 0f64;
    let q = new_f32(op, &x.shape, |q| {
        for n in 0..outer {
            for i in 0..inner {
                let y = ys[n * inner + i];
                if y as i64 == o.ignore_index {
                    continue;
                }
                let wy = ws.map_or(1.0, |w| w[y as usize]);
                denom += wy as f64;
                for k in 0..c {
                    let wk = ws.map_or(1.0, |w| w[k]);
                    q[(n * c + k) * inner + i] = eps / c as f32 * wk;
                }
                q[(n * c + y as usize) * inner + i] += (1.0 - eps) * wy;
            }
        }
    })?;
    Ok((q, denom))
}

/// Per-lane −Σ_c q_c·log softmax(x)_c; saves log-softmax for backward.
fn soft_cross_entropy(op: &'static str, x: &Tensor, q: &Tensor) -> Result<(Tensor, Tensor)> {
    let dim = if x.ndim() == 1 { 0 } else { 1 };
    let logp = softmax_values(x, dim, true)?;
    let (outer, c, inner) = lanes(&x.shape);
    let (lp, qs) = (logp.f32s(op)?, q.f32s(op)?);
    let mut out_shape = x.shape.clone();
    out_shape.remove(dim);
    let loss = new_f32(op, &out_shape, |o| {
        for n in 0..outer {
            for i in 0..inner {
                let mut s = 0f64;
                for k in 0..c {
                    let at = (n * c + k) * inner + i;
                    if qs[at] != 0.0 {
                        s -= qs[at] as f64 * lp[at] as f64;
                    }
                }
                o[n * inner + i] = s as f32;
            }
        }
    })?;
    Ok((loss, logp))
}

// L_lane = −Σ_c q_c log p_c  ⇒  ∂L/∂x_c = g_lane · (p_c Σ_k q_k − q_c)
pub fn cross_entropy_backward(g: &Tensor, logp: &Tensor, q: &Tensor) -> Result<Vec<Option<Tensor>>> {
    let op = "cross_entropy_backward";
    let (outer, c, inner) = lanes(&logp.shape);
    let (gs, lp, qs) = (g.f32s(op)?, logp.f32s(op)?, q.f32s(op)?);
    let gx = new_f32(op, &logp.shape, |o| {
        for n in 0..outer {
            for i in 0..inner {
                let gl = gs[n * inner + i];
                let qsum: f32 = (0..c).map(|k| qs[(n * c + k) * inner + i]).sum();
                for k in 0..c {
                    let at = (n * c + k) * inner + i;
                    o[at] = gl * (lp[at].exp() * qsum - qs[at]);
                }
            }
        }
    })?;
    Ok(vec![Some(gx), None])
}

/// L = (1−y)·x + (1 + (pw−1)·y)·softplus(−x), softplus computed without overflow.
fn softplus_neg(x: f32) -> f32 {
    // log(1 + e^{−x}) = max(−x, 0) + log(1 + e^{−|x|})
    (-x).max(0.0) + (-x.abs()).exp().ln_1p()
}

fn bce_logits_values(op: &'static str, x: &[f32], y: &[f32], pw: Option<&[f32]>, shape: &[usize]) -> Result<Tensor> {
    new_f32(op, shape, |o| {
        for i in 0..o.len() {
            let lw = pw.map_or(1.0, |p| 1.0 + (p[i] - 1.0) * y[i]);
            o[i] = (1.0 - y[i]) * x[i] + lw * softplus_neg(x[i]);
        }
    })
}

// ∂L/∂x = (1−y) − (1 + (pw−1)y)·σ(−x);  ∂L/∂y = −x + (pw−1)·softplus(−x)
pub fn bce_with_logits_backward(g: &Tensor, x: &Tensor, y: &Tensor, pw: &Option<Tensor>) -> Result<Vec<Option<Tensor>>> {
    let op = "bce_with_logits_backward";
    let (gs, xs, ys) = (g.f32s(op)?, x.f32s(op)?, y.f32s(op)?);
    let ps: Option<&[f32]> = match pw {
        Some(p) => Some(p.f32s(op)?),
        None => None,
    };
    let gx = new_f32(op, &x.shape, |o| {
        for i in 0..o.len() {
            let lw = ps.map_or(1.0, |p| 1.0 + (p[i] - 1.0) * ys[i]);
            o[i] = gs[i] * ((1.0 - ys[i]) - lw * crate::ops::unary::sigmoid(-xs[i]));
        }
    })?;
    let gy = new_f32(op, &x.shape, |o| {
        for i in 0..o.len() {
            let pm1 = ps.map_or(0.0, |p| p[i] - 1.0);
            o[i] = gs[i] * (-xs[i] + pm1 * softplus_neg(xs[i]));
        }
    })?;
    Ok(vec![Some(gx), Some(gy), None])
}

impl Context {
    /// Per-position cross-entropy of `logits` ([C], [N, C] or [N, C, d...]) against
    /// int32 class indices ([N, d...]) or float32 probabilities (the logits' shape).
    /// Returns (losses, mean denominator): Σ w[y] for indices, the lane count for
    /// probabilities.
    pub fn cross_entropy(&mut self, logits: Id, target: Id, weight: Option<Id>, o: CrossEntropyOptions) -> Result<(Id, f64)> {
        let op = "cross_entropy";
        let x = self.get(op, logits)?.to_f32(op)?;
        let t = self.get(op, target)?;
        if x.ndim() == 0 {
            return Err(Error::shape(op, "input must have a class dim: expected [C], [N, C] or [N, C, d...], got a 0-d tensor"));
        }
        if !(0.0..=1.0).contains(&o.label_smoothing) {
            return Err(Error::value(op, format!("labelSmoothing must be in [0, 1], got {}", o.label_smoothing)));
        }
        let c = if x.ndim() == 1 { x.shape[0] } else { x.shape[1] };
        let w = match weight {
            Some(w) => {
                let w = self.get(op, w)?.to_f32(op)?;
                if w.shape != [c] {
                    return Err(Error::shape(op, format!("weight must have shape [{}] (one per class), got {}", c, fmt_shape(&w.shape))));
                }
                Some(w)
            }
            None => None,
        };
        let mut lane_shape = x.shape.clone();
        lane_shape.remove(if x.ndim() == 1 { 0 } else { 1 });
        let (q, denom) = match t.dtype() {
            DType::I32 if t.shape == lane_shape => index_targets(op, &x, &t, w.as_ref(), o)?,
            DType::F32 if t.shape == x.shape => {
                let ts = t.f32s(op)?;
                let (outer, c, inner) = lanes(&x.shape);
                let eps = o.label_smoothing;
                let wsl: Option<&[f32]> = match &w {
                    Some(w) => Some(w.f32s(op)?),
                    None => None,
                };
                let q = new_f32(op, &x.shape, |q| {
                    for n in 0..outer {
                        for k in 0..c {
                            for i in 0..inner {
                                let at = (n * c + k) * inner + i;
                                q[at] = (ts[at] * (1.0 - eps) + eps / c as f32) * wsl.map_or(1.0, |w| w[k]);
                            }
                        }
                    }
                })?;
                (q, (outer * inner) as f64)
            }
            _ => {
                return Err(Error::shape(
                    op,
                    format!(
                        "target must be int32 class indices of shape {} or float32 probabilities of shape {}, got {} of shape {}",
                        fmt_shape(&lane_shape),
                        fmt_shape(&x.shape),
                        t.dtype().name(),
                        fmt_shape(&t.shape)
                    ),
                ))
            }
        };
        let (loss, logp) = soft_cross_entropy(op, &x, &q)?;
        let id = self.record("CrossEntropyBackward", &[logits, target], loss, move || Op::CrossEntropy { logp, q })?;
        Ok((id, denom))
    }

    /// Per-element binary cross-entropy on logits, with an optional positive-class
    /// weight already broadcast to the input's shape.
    pub fn bce_with_logits(&mut self, logits: Id, target: Id, pos_weight: Option<Id>) -> Result<Id> {
        let op = "binary_cross_entropy_with_logits";
        let x = self.get(op, logits)?.to_f32(op)?;
        let y = self.get(op, target)?.to_f32(op)?;
        if x.shape != y.shape {
            return Err(Error::shape(
                op,
                format!("target size {} must be the same as input size {}", fmt_shape(&y.shape), fmt_shape(&x.shape)),
            ));
        }
        let pw = match pos_weight {
            Some(p) => {
                let p = self.get(op, p)?.to_f32(op)?;
                Some(crate::ops::layout::expand_values(&p, &x.shape).map_err(|_| {
                    Error::shape(op, format!("posWeight of shape {} does not broadcast to the input's shape {}", fmt_shape(&p.shape), fmt_shape(&x.shape)))
                })?)
            }
            None => None,
        };
        let pws: Option<&[f32]> = match &pw {
            Some(p) => Some(p.f32s(op)?),
            None => None,
        };
        let out = bce_logits_values(op, x.f32s(op)?, y.f32s(op)?, pws, &x.shape)?;
        let inputs: Vec<Id> = match pos_weight {
            Some(p) => vec![logits, target, p],
            None => vec![logits, target],
        };
        self.record("BinaryCrossEntropyWithLogitsBackward", &inputs, out, move || Op::BceWithLogits { x, y, pos_weight: pw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        // logits [ln 1, ln 2, ln 1] → p = [0.25, 0.5, 0.25]; target 1 → loss −ln 0.5.
        let mut c = Context::new();
        let x = c.insert(Tensor::from_f32(vec![1, 3], vec![0.0, 2f32.ln(), 0.0]));
        let t = c.insert(Tensor::from_i32(vec![1], vec![1]));
        let (l, d) = c.cross_entropy(x, t, None, CrossEntropyOptions { ignore_index: -100, label_smoothing: 0.0 }).unwrap();
        assert!((c.get("t", l).unwrap().f32s("t").unwrap()[0] - 2f32.ln()).abs() < 1e-6);
        assert_eq!(d, 1.0);
        let bad = c.insert(Tensor::from_i32(vec![1], vec![3]));
        let e = c.cross_entropy(x, bad, None, CrossEntropyOptions { ignore_index: -100, label_smoothing: 0.0 }).unwrap_err();
        assert!(e.to_string().contains("target 3 is out of bounds for 3 classes"));
        assert!((softplus_neg(-100.0) - 100.0).abs() < 1e-4 && softplus_neg(100.0) < 1e-40);
    }
}
