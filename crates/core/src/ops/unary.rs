//! Elementwise unary ops: math functions and the lecture's activation table. Each
//! forward formula sits next to its derivative in `unary_backward`.

use crate::autograd::Op;
use crate::buffer::DType;
use crate::context::{Context, Id};
use crate::error::{Error, Result};
use crate::tensor::{new_f32_overwritten, new_i32, Tensor};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unary {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Sign,
    Relu,
    Sigmoid,
    Tanh,
    Atan,
    Sin,
    Cos,
    /// The lecture's binary step: 1 for x ≥ 0, else 0.
    Step,
    LeakyRelu { slope: f32 },
    Elu { alpha: f32 },
    Softplus { beta: f32, threshold: f32 },
    /// Exact (erf) GELU, PyTorch's default.
    Gelu,
    /// NaN bounds mean "no bound".
    Clamp { min: f32, max: f32 },
    PowScalar { exponent: f32 },
}

impl Unary {
    /// Decodes the FFI form: an op code and up to two parameters.
    pub fn from_code(code: u32, p: f32, q: f32) -> Result<Unary> {
        Ok(match code {
            0 => Unary::Neg,
            1 => Unary::Exp,
            2 => Unary::Log,
            3 => Unary::Sqrt,
            4 => Unary::Abs,
            5 => Unary::Sign,
            6 => Unary::Relu,
            7 => Unary::Sigmoid,
            8 => Unary::Tanh,
            9 => Unary::Atan,
            10 => Unary::Sin,
            11 => Unary::Cos,
            12 => Unary::Step,
            13 => Unary::LeakyRelu { slope: p },
            14 => Unary::Elu { alpha: p },
            15 => {
                if !(p > 0.0) {
                    return Err(Error::value("softplus", format!("beta must be positive, got {}", p)));
                }
                Unary::Softplus { beta: p, threshold: q }
            }
            16 => Unary::Gelu,
            17 => {
                if p > q {
                    return Err(Error::value("clamp", format!("min {} is greater than max {}; swap them", p, q)));
                }
                Unary::Clamp { min: p, max: q }
            }
            18 => Unary::PowScalar { exponent: p },
            _ => return Err(Error::value("unary", format!("unknown unary op code {}", code))),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Sqrt => "sqrt",
            Unary::Abs => "abs",
            Unary::Sign => "sign",
            Unary::Relu => "relu",
            Unary::Sigmoid => "sigmoid",
            Unary::Tanh => "tanh",
            Unary::Atan => "atan",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Step => "binaryStep",
            Unary::LeakyRelu { .. } => "leakyRelu",
            Unary::Elu { .. } => "elu",
            Unary::Softplus { .. } => "softplus",
            Unary::Gelu => "gelu",
            Unary::Clamp { .. } => "clamp",
            Unary::PowScalar { .. } => "pow",
        }
    }

    /// Ops that map int32 to int32 in PyTorch; the rest compute in float32.
    fn keeps_int(self) -> bool {
        matches!(self, Unary::Neg | Unary::Abs | Unary::Sign | Unary::Relu | Unary::Clamp { .. })
    }
}

/// Overflow-free logistic function.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// erf with |error| < 1.2e-7 (Numerical Recipes' erfc by Chebyshev fit), in f64.
pub fn erf(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - erfc
    } else {
        erfc - 1.0
    }
}

#[inline(always)]
fn forward_f32(f: Unary, x: f32) -> f32 {
    match f {
        Unary::Neg => -x,
        Unary::Exp => x.exp(),
        Unary::Log => x.ln(),
        Unary::Sqrt => x.sqrt(),
        Unary::Abs => x.abs(),
        Unary::Sign => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x // keeps 0, -0 and NaN as PyTorch does
            }
        }
        // One comparison and a select (vectorisable); NaN passes through as in PyTorch.
        Unary::Relu => {
            if !(x <= 0.0) {
                x
            } else {
                0.0
            }
        }
        Unary::Sigmoid => sigmoid(x),
        Unary::Tanh => x.tanh(),
        Unary::Atan => x.atan(),
        Unary::Sin => x.sin(),
        Unary::Cos => x.cos(),
        Unary::Step => (x >= 0.0) as i32 as f32,
        Unary::LeakyRelu { slope } => {
            if x > 0.0 {
                x
            } else {
                x * slope
            }
        }
        Unary::Elu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * x.exp_m1()
            }
        }
        Unary::Softplus { beta, threshold } => {
            if x * beta > threshold {
                x
            } else {
                (x * beta).exp().ln_1p() / beta
            }
        }
        Unary::Gelu => (0.5 * x as f64 * (1.0 + erf(x as f64 * std::f64::consts::FRAC_1_SQRT_2))) as f32,
        Unary::Clamp { min, max } => {
            let lo = if x < min { min } else { x };
            if lo > max {
                max
            } else {
                lo
            }
        }
        Unary::PowScalar { exponent } => x.powf(exponent),
    }
}

/// d/dx of each function, given x, the forward output y, and the incoming gradient g.
#[inline(always)]
fn backward_f32(f: Unary, x: f32, y: f32, g: f32) -> f32 {
    match f {
        // d(-x) = -1
        Unary::Neg => -g,
        // d(e^x) = e^x
        Unary::Exp => g * y,
        // d(ln x) = 1/x
        Unary::Log => g / x,
        // d(√x) = 1/(2√x)
        Unary::Sqrt => g / (2.0 * y),
        // d|x| = sign(x), 0 at 0
        Unary::Abs => g * forward_f32(Unary::Sign, x),
        // piecewise constant
        Unary::Sign | Unary::Step => 0.0,
        // d relu = 1 for x > 0, else 0 (PyTorch's choice at 0)
        Unary::Relu => {
            if y > 0.0 {
                g
            } else {
                0.0
            }
        }
        // dσ = σ(1-σ)
        Unary::Sigmoid => g * y * (1.0 - y),
        // d tanh = 1 - tanh²
        Unary::Tanh => g * (1.0 - y * y),
        // d atan = 1/(1+x²)
        Unary::Atan => g / (1.0 + x * x),
        Unary::Sin => g * x.cos(),
        Unary::Cos => -g * x.sin(),
        // slope for x ≤ 0, 1 above
        Unary::LeakyRelu { slope } => {
            if x > 0.0 {
                g
            } else {
                g * slope
            }
        }
        // d elu = f(x) + α for x ≤ 0, 1 above
        Unary::Elu { alpha } => {
            if x > 0.0 {
                g
            } else {
                g * (y + alpha)
            }
        }
        // d softplus = σ(βx), 1 past the linear threshold
        Unary::Softplus { beta, threshold } => {
            if x * beta > threshold {
                g
            } else {
                g * sigmoid(x * beta)
            }
        }
        // d gelu = Φ(x) + x φ(x)
        Unary::Gelu => {
            let xd = x as f64;
            let cdf = 0.5 * (1.0 + erf(xd * std::f64::consts::FRAC_1_SQRT_2));
            let pdf = (-0.5 * xd * xd).exp() / (2.0 * std::f64::consts::PI).sqrt();
            (g as f64 * (cdf + xd * pdf)) as f32
        }
        // 1 inside [min, max], 0 outside
        Unary::Clamp { min, max } => {
            if (min.is_nan() || x >= min) && (max.is_nan() || x <= max) {
                g
            } else {
                0.0
            }
        }
        // d xᵉ = e·xᵉ⁻¹ (0 when e = 0)
        Unary::PowScalar { exponent } => {
            if exponent == 0.0 {
                0.0
            } else {
                g * exponent * x.powf(exponent - 1.0)
            }
        }
    }
}

fn forward_i32(f: Unary, x: i32) -> i32 {
    match f {
        Unary::Neg => x.wrapping_neg(),
        Unary::Abs => x.wrapping_abs(),
        Unary::Sign => x.signum(),
        Unary::Relu => x.max(0),
        Unary::Clamp { min, max } => {
            let v = x as f32;
            let lo = if !min.is_nan() && v < min { min } else { v };
            (if !max.is_nan() && lo > max { max } else { lo }) as i32
        }
        _ => x,
    }
}

/// Runs `$body` with `$g` bound to a copy of `$f` whose variant is a compile-time
/// constant in each arm, so that the per-element `match` inside `forward_f32` and
/// `backward_f32` folds away and the loop can vectorise.
macro_rules! specialize {
    ($f:expr, |$g:ident| $body:expr) => {
        match $f {
            Unary::Neg => { let $g = Unary::Neg; $body }
            Unary::Exp => { let $g = Unary::Exp; $body }
            Unary::Log => { let $g = Unary::Log; $body }
            Unary::Sqrt => { let $g = Unary::Sqrt; $body }
            Unary::Abs => { let $g = Unary::Abs; $body }
            Unary::Sign => { let $g = Unary::Sign; $body }
            Unary::Relu => { let $g = Unary::Relu; $body }
            Unary::Sigmoid => { let $g = Unary::Sigmoid; $body }
            Unary::Tanh => { let $g = Unary::Tanh; $body }
            Unary::Atan => { let $g = Unary::Atan; $body }
            Unary::Sin => { let $g = Unary::Sin; $body }
            Unary::Cos => { let $g = Unary::Cos; $body }
            Unary::Step => { let $g = Unary::Step; $body }
            Unary::LeakyRelu { slope } => { let $g = Unary::LeakyRelu { slope }; $body }
            Unary::Elu { alpha } => { let $g = Unary::Elu { alpha }; $body }
            Unary::Softplus { beta, threshold } => { let $g = Unary::Softplus { beta, threshold }; $body }
            Unary::Gelu => { let $g = Unary::Gelu; $body }
            Unary::Clamp { min, max } => { let $g = Unary::Clamp { min, max }; $body }
            Unary::PowScalar { exponent } => { let $g = Unary::PowScalar { exponent }; $body }
        }
    };
}

/// `f(x)` elementwise into a new float32 tensor of the same shape.
#[inline(always)]
pub fn map_f32(op: &'static str, x: &Tensor, f: impl Fn(f32) -> f32) -> Result<Tensor> {
    let xs = x.f32s(op)?;
    new_f32_overwritten(op, &x.shape, |o| {
        for (o, &v) in o.iter_mut().zip(xs) {
            *o = f(v);
        }
    })
}

pub fn unary_values(f: Unary, x: &Tensor) -> Result<Tensor> {
    let op = f.name();
    if x.dtype() == DType::I32 && f.keeps_int() {
        let xs = x.i32s(op)?;
        return new_i32(op, &x.shape, |o| {
            for (o, &v) in o.iter_mut().zip(xs) {
                *o = forward_i32(f, v);
            }
        });
    }
    let x = x.to_f32(op)?;
    if let Unary::Clamp { min, max } = f {
        // NaN bounds mean "absent": replace them by infinities once.
        let (lo, hi) = (if min.is_nan() { f32::NEG_INFINITY } else { min }, if max.is_nan() { f32::INFINITY } else { max });
        return map_f32(op, &x, |v| forward_f32(Unary::Clamp { min: lo, max: hi }, v));
    }
    specialize!(f, |k| map_f32(op, &x, move |v| forward_f32(k, v)))
}

pub fn unary_backward(f: Unary, g: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let op = "unary_backward";
    let (gs, xs, ys) = (g.f32s(op)?, x.f32s(op)?, y.f32s(op)?);
    new_f32_overwritten(op, &g.shape, |o| {
        specialize!(f, |k| {
            for (((o, &x), &y), &g) in o.iter_mut().zip(xs).zip(ys).zip(gs) {
                *o = backward_f32(k, x, y, g);
            }
        })
    })
}

impl Context {
    pub fn unary(&mut self, f: Unary, a: Id) -> Result<Id> {
        let x = self.get(f.name(), a)?;
        let out = unary_values(f, &x)?;
        if x.dtype() != DType::F32 {
            return Ok(self.insert(out));
        }
        let saved = out.clone();
        self.record(grad_fn_name(f), &[a], out, move || Op::Unary { f, x, out: saved })
    }
}

fn grad_fn_name(f: Unary) -> &'static str {
    match f {
        Unary::Neg => "NegBackward",
        Unary::Exp => "ExpBackward",
        Unary::Log => "LogBackward",
        Unary::Sqrt => "SqrtBackward",
        Unary::Abs => "AbsBackward",
        Unary::Sign => "SignBackward",
        Unary::Relu => "ReluBackward",
        Unary::Sigmoid => "SigmoidBackward",
        Unary::Tanh => "TanhBackward",
        Unary::Atan => "AtanBackward",
        Unary::Sin => "SinBackward",
        Unary::Cos => "CosBackward",
        Unary::Step => "StepBackward",
        Unary::LeakyRelu { .. } => "LeakyReluBackward",
        Unary::Elu { .. } => "EluBackward",
        Unary::Softplus { .. } => "SoftplusBackward",
        Unary::Gelu => "GeluBackward",
        Unary::Clamp { .. } => "ClampBackward",
        Unary::PowScalar { .. } => "PowBackward",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences in f64 around a few points, against `backward_f32`.
    #[test]
    fn derivatives_match_finite_differences() {
        let fs = [
            Unary::Exp,
            Unary::Log,
            Unary::Sqrt,
            Unary::Sigmoid,
            Unary::Tanh,
            Unary::Atan,
            Unary::Sin,
            Unary::Cos,
            Unary::Elu { alpha: 1.3 },
            Unary::LeakyRelu { slope: 0.1 },
            Unary::Softplus { beta: 2.0, threshold: 20.0 },
            Unary::Gelu,
            Unary::PowScalar { exponent: 2.5 },
        ];
        for f in fs {
            for &x in &[0.3f32, 0.9, 1.7, -0.6, -2.2] {
                if matches!(f, Unary::Log | Unary::Sqrt | Unary::PowScalar { .. }) && x < 0.0 {
                    continue;
                }
                let h = 1e-3f32;
                let fd = (forward_f32(f, x + h) as f64 - forward_f32(f, x - h) as f64) / (2.0 * h as f64);
                let an = backward_f32(f, x, forward_f32(f, x), 1.0) as f64;
                assert!((fd - an).abs() < 2e-3 * (1.0 + an.abs()), "{:?} at {}: fd {} vs {}", f, x, fd, an);
            }
        }
    }

    #[test]
    fn activations_match_the_lecture_table() {
        assert_eq!(forward_f32(Unary::Step, 0.0), 1.0);
        assert_eq!(forward_f32(Unary::Step, -1e-7), 0.0);
        assert!((erf(0.5) - 0.520_499_877_8).abs() < 2e-7);
        assert_eq!(forward_f32(Unary::Softplus { beta: 1.0, threshold: 20.0 }, 30.0), 30.0);
        assert!((sigmoid(-100.0)).abs() < 1e-30);
    }
}
