//! Fused optimizer updates: one call per parameter updates the parameter and its state
//! in place, with PyTorch's formulas (torch/optim, single-tensor versions). Step
//! counts and bias corrections are computed by the caller and passed in.

use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::tensor::Tensor;

#[derive(Debug, Clone, Copy)]
pub enum Update {
    /// state: [momentum_buffer] when momentum ≠ 0. `first` starts the buffer at d_p.
    Sgd { lr: f32, momentum: f32, dampening: f32, weight_decay: f32, nesterov: bool, maximize: bool, first: bool },
    /// state: [exp_avg, exp_avg_sq, (max_exp_avg_sq when amsgrad)].
    /// `decoupled` is AdamW's weight decay; step_size = lr / (1 − β1^t), bc2_sqrt = √(1 − β2^t).
    Adam { lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, amsgrad: bool, decoupled: bool, maximize: bool, step_size: f32, bc2_sqrt: f32 },
    /// state: [square_avg, (momentum_buffer when momentum > 0), (grad_avg when centered)].
    RmsProp { lr: f32, alpha: f32, eps: f32, weight_decay: f32, momentum: f32, centered: bool, maximize: bool },
    /// state: [sum]; clr = lr / (1 + (t − 1)·lr_decay).
    Adagrad { clr: f32, eps: f32, weight_decay: f32, maximize: bool },
}

impl Update {
    fn state_len(&self) -> usize {
        match *self {
            Update::Sgd { momentum, .. } => (momentum != 0.0) as usize,
            Update::Adam { amsgrad, .. } => 2 + amsgrad as usize,
            Update::RmsProp { momentum, centered, .. } => 1 + (momentum > 0.0) as usize + centered as usize,
            Update::Adagrad { .. } => 1,
        }
    }
}

/// The gradient as the update sees it: negated for `maximize`, plus L2 weight decay.
fn effective_grad(g: f32, p: f32, weight_decay: f32, maximize: bool) -> f32 {
    let g = if maximize { -g } else { g };
    if weight_decay != 0.0 {
        g + weight_decay * p
    } else {
        g
    }
}

fn apply(u: Update, p: &mut [f32], g: &[f32], state: &mut [&mut [f32]]) {
    match u {
        Update::Sgd { lr, momentum, dampening, weight_decay, nesterov, maximize, first } => {
            if momentum == 0.0 {
                for (pi, &gi) in p.iter_mut().zip(g) {
                    *pi -= lr * effective_grad(gi, *pi, weight_decay, maximize);
                }
                return;
            }
            for ((pi, &gi), buf) in p.iter_mut().zip(g).zip(state[0].iter_mut()) {
                let d = effective_grad(gi, *pi, weight_decay, maximize);
                *buf = if first { d } else { momentum * *buf + (1.0 - dampening) * d };
                *pi -= lr * if nesterov { d + momentum * *buf } else { *buf };
            }
        }
        Update::Adam { lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled, maximize, step_size, bc2_sqrt } => {
            let adam = |pi: &mut f32, gi: f32, m: &mut f32, v: &mut f32, vmax: Option<&mut f32>| {
                if decoupled {
                    *pi *= 1.0 - lr * weight_decay;
                }
                let gi = effective_grad(gi, *pi, if decoupled { 0.0 } else { weight_decay }, maximize);
                // exp_avg.lerp_(grad, 1 − β1) and exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
                *m += (gi - *m) * (1.0 - beta1);
                *v = *v * beta2 + (1.0 - beta2) * gi * gi;
                let second = match vmax {
                    Some(x) => {
                        *x = x.max(*v);
                        *x
                    }
                    None => *v,
                };
                *pi -= step_size * *m / (second.sqrt() / bc2_sqrt + eps);
            };
            let (m, rest) = state.split_at_mut(1);
            let (v, vmax) = rest.split_at_mut(1);
            let moments = p.iter_mut().zip(g).zip(m[0].iter_mut()).zip(v[0].iter_mut());
            if amsgrad {
                for ((((pi, &gi), m), v), x) in moments.zip(vmax[0].iter_mut()) {
                    adam(pi, gi, m, v, Some(x));
                }
            } else {
                for (((pi, &gi), m), v) in moments {
                    adam(pi, gi, m, v, None);
                }
            }
        }
        Update::RmsProp { lr, alpha, eps, weight_decay, momentum, centered, maximize } => {
            // After square_avg: the momentum buffer and the gradient average, each when enabled.
            let (sq, rest) = state.split_at_mut(1);
            let (buf, rest) = if momentum > 0.0 { rest.split_at_mut(1) } else { rest.split_at_mut(0) };
            let mut buf = buf.first_mut();
            let mut grad_avg = if centered { rest.first_mut() } else { None };
            for (i, ((pi, &gi), sq)) in p.iter_mut().zip(g).zip(sq[0].iter_mut()).enumerate() {
                let gi = effective_grad(gi, *pi, weight_decay, maximize);
                *sq = *sq * alpha + (1.0 - alpha) * gi * gi;
                let avg = match grad_avg.as_deref_mut() {
                    Some(ga) => {
                        let ga = &mut ga[i];
                        *ga += (gi - *ga) * (1.0 - alpha);
                        (*sq - *ga * *ga).sqrt() + eps
                    }
                    None => sq.sqrt() + eps,
                };
                match buf.as_deref_mut() {
                    Some(b) => {
                        let b = &mut b[i];
                        *b = *b * momentum + gi / avg;
                        *pi -= lr * *b;
                    }
                    None => *pi -= lr * gi / avg,
                }
            }
        }
        Update::Adagrad { clr, eps, weight_decay, maximize } => {
            for ((pi, &gi), sum) in p.iter_mut().zip(g).zip(state[0].iter_mut()) {
                let gi = effective_grad(gi, *pi, weight_decay, maximize);
                *sum += gi * gi;
                *pi -= clr * gi / (sum.sqrt() + eps);
            }
        }
    }
}

impl Context {
    /// Applies `u` to parameter `param` with gradient `grad` and state tensors `state`
    /// (all float32 of the parameter's shape), in place. Runs with grad mode off.
    pub fn optimizer_step(&mut self, u: Update, param: Id, grad: Id, state: &[Id]) -> Result<()> {
        let op = "optimizer.step";
        if state.len() != u.state_len() {
            return Err(Error::value(op, format!("expected {} state tensors, got {}", u.state_len(), state.len())));
        }
        let g = self.get(op, grad)?;
        let mut targets = vec![param];
        targets.extend_from_slice(state);
        if targets.contains(&grad) {
            return Err(Error::value(op, "the gradient cannot also be the parameter or a state tensor"));
        }
        let shape = self.get(op, param)?.shape;
        for &t in &targets {
            let v = self.get(op, t)?;
            if v.shape != shape || v.dtype() != crate::DType::F32 {
                return Err(Error::shape(op, format!("parameter and state must be float32 of one shape, got {} and {}", fmt_shape(&shape), fmt_shape(&v.shape))));
            }
        }
        if g.shape != shape {
            return Err(Error::shape(op, format!("gradient of shape {} does not match parameter of shape {}", fmt_shape(&g.shape), fmt_shape(&shape))));
        }
        let gs = g.f32s(op)?;
        let prev = self.grad_enabled;
        self.grad_enabled = false;
        let r = self.write_many(op, &targets, |ts: &mut [Tensor]| {
            let mut slices: Vec<&mut [f32]> = Vec::with_capacity(ts.len());
            for t in ts.iter_mut() {
                slices.push(t.f32s_mut(op)?);
            }
            let (p, st) = slices.split_at_mut(1);
            apply(u, p[0], gs, st);
            Ok(())
        });
        self.grad_enabled = prev;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_momentum_follows_pytorch_recurrence() {
        let mut p = vec![1.0f32];
        let mut buf = vec![0.0f32];
        let u = |first| Update::Sgd { lr: 0.1, momentum: 0.9, dampening: 0.0, weight_decay: 0.0, nesterov: false, maximize: false, first };
        apply(u(true), &mut p, &[1.0], &mut [&mut buf]);
        assert!((p[0] - 0.9).abs() < 1e-7 && buf[0] == 1.0);
        apply(u(false), &mut p, &[1.0], &mut [&mut buf]);
        assert!((buf[0] - 1.9).abs() < 1e-6 && (p[0] - 0.71).abs() < 1e-6);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // With bias correction the first Adam step is lr·sign(g) (up to eps).
        let (mut p, mut m, mut v) = (vec![0.5f32], vec![0.0f32], vec![0.0f32]);
        let u = Update::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, amsgrad: false, decoupled: false, maximize: false, step_size: 0.01 / 0.1, bc2_sqrt: 0.001f32.sqrt() };
        apply(u, &mut p, &[3.0], &mut [&mut m, &mut v]);
        assert!((p[0] - 0.49).abs() < 1e-6);
    }
}
