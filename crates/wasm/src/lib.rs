//! The C-ABI surface of ferrograd: the only `extern "C"` functions of the project.
//! Each export decodes numbers, calls `ferrograd_core`, and encodes the result:
//! an id (> 0) or 0/1 status, with -1 meaning "error; read it with `fg_error`".
//! Array arguments (shapes, dims, id lists) travel through the `args` scratch area,
//! multi-value results through `out`.

use ferrograd_core::ops::binary::BinaryOp;
use ferrograd_core::ops::inplace::InPlace;
use ferrograd_core::ops::loss::CrossEntropyOptions;
use ferrograd_core::ops::optim::Update;
use ferrograd_core::ops::unary::Unary;
use ferrograd_core::tensor::Tensor;
use ferrograd_core::{Context, DType, Error, Result};

struct State {
    ctx: Context,
    args: Vec<f64>,
    out: [f64; 64],
    /// Data coming in, in 4-byte words (every element type is one word), so it reads as f32 in place.
    staging: Vec<f32>,
    error: String,
    text: String,
}

static mut STATE: Option<State> = None;

fn state() -> &'static mut State {
    // SAFETY: a wasm instance runs one thread and no export calls back into the host,
    // so the reference handed out here is the only live one while an export runs.
    let slot = unsafe { &mut *std::ptr::addr_of_mut!(STATE) };
    slot.get_or_insert_with(|| State {
        ctx: Context::new(),
        args: Vec::new(),
        out: [0.0; 64],
        staging: Vec::new(),
        error: String::new(),
        text: String::new(),
    })
}

fn fail(e: Error) -> i32 {
    let s = state();
    s.error.clear();
    s.error.push_str(e.kind());
    s.error.push('\t');
    s.error.push_str(&e.to_string());
    -1
}

fn id(r: Result<u32>) -> i32 {
    match r {
        Ok(v) => v as i32,
        Err(e) => fail(e),
    }
}

fn status(r: Result<()>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => fail(e),
    }
}

/// The first `n` args as integers (shapes, dims, ids).
fn ints(n: u32) -> Result<Vec<i64>> {
    let a = &state().args;
    if n as usize > a.len() {
        return Err(Error::value("ffi", format!("{} arguments requested but only {} were staged", n, a.len())));
    }
    Ok(a[..n as usize].iter().map(|&v| v as i64).collect())
}

fn ids(n: u32) -> Result<Vec<u32>> {
    Ok(ints(n)?.into_iter().map(|v| v.max(0).min(u32::MAX as i64) as u32).collect())
}

fn dtype(code: u32) -> Result<DType> {
    DType::from_code("dtype", code)
}

fn ctx() -> &'static mut Context {
    &mut state().ctx
}

// ---- scratch areas and errors ----

#[no_mangle]
pub extern "C" fn fg_args(n: u32) -> *mut f64 {
    let a = &mut state().args;
    if a.len() < n as usize {
        if a.try_reserve(n as usize - a.len()).is_err() {
            return std::ptr::null_mut();
        }
        a.resize(n as usize, 0.0);
    }
    a.as_mut_ptr()
}

#[no_mangle]
pub extern "C" fn fg_out() -> *const f64 {
    state().out.as_ptr()
}

#[no_mangle]
pub extern "C" fn fg_error_ptr() -> *const u8 {
    state().error.as_ptr()
}

#[no_mangle]
pub extern "C" fn fg_error_len() -> u32 {
    state().error.len() as u32
}

#[no_mangle]
pub extern "C" fn fg_text_ptr() -> *const u8 {
    state().text.as_ptr()
}

/// A byte area of at least `nbytes` for data coming in, 4-byte aligned; null when memory is exhausted.
#[no_mangle]
pub extern "C" fn fg_staging(nbytes: u32) -> *mut u8 {
    let s = &mut state().staging;
    let words = (nbytes as usize + 3) / 4;
    if s.len() < words {
        if s.try_reserve_exact(words - s.len()).is_err() {
            fail(Error::OutOfMemory { op: "tensor", bytes: nbytes as usize });
            return std::ptr::null_mut();
        }
        s.resize(words, 0.0);
    }
    s.as_mut_ptr().cast::<u8>()
}

/// The first `n` staged words, or an error naming `op` when fewer were staged.
fn staged(op: &'static str, n: usize) -> Result<&'static [f32]> {
    let s = &state().staging;
    if s.len() < n {
        return Err(Error::value(op, "staged data is shorter than the tensor"));
    }
    Ok(&s[..n])
}

// ---- handles ----

/// A tensor from the staged bytes (`numel` elements of `dtype`) and the staged shape.
#[no_mangle]
pub extern "C" fn fg_from_staging(dt: u32, ndim: u32, numel: u32) -> i32 {
    id((|| {
        let dt = dtype(dt)?;
        let shape = ferrograd_core::ops::create::to_shape("tensor", &ints(ndim)?)?;
        Context::check_data_len("tensor", &shape, numel as usize)?;
        let words = staged("tensor", numel as usize)?;
        // wasm is little-endian and the staged words are the elements' own bytes: float32
        // data is one memory.copy into a buffer that need not be zeroed first; int32 data
        // reinterprets each word.
        let t = match dt {
            DType::F32 => ferrograd_core::tensor::new_f32_overwritten("tensor", &shape, |o| o.copy_from_slice(words))?,
            DType::I32 => ferrograd_core::tensor::new_i32("tensor", &shape, |o| o.iter_mut().zip(words).for_each(|(d, w)| *d = w.to_bits() as i32))?,
        };
        Ok(ctx().insert(t))
    })())
}

/// `Σ_k w_k · x_k` (see `ops::weighted_sum`) of the `nterms` staged terms of `numel` float32
/// each, back to back; args = [weights (nterms)..., sizes (ndim)...].
#[no_mangle]
pub extern "C" fn fg_weighted_sum(nterms: u32, ndim: u32, numel: u32) -> i32 {
    const OP: &str = "weightedSum";
    id((|| {
        let (k, n) = (nterms as usize, numel as usize);
        let dims = ints(nterms.saturating_add(ndim))?;
        let shape = ferrograd_core::ops::create::to_shape(OP, &dims[k..])?;
        Context::check_data_len(OP, &shape, n)?;
        let weights: Vec<f32> = state().args[..k].iter().map(|&w| w as f32).collect();
        let total = n.checked_mul(k).ok_or_else(|| Error::value(OP, format!("{} terms of {} values are too many", k, n)))?;
        let words = staged(OP, total)?;
        let terms: Vec<&[f32]> = (0..k).map(|i| &words[i * n..(i + 1) * n]).collect();
        let t = ferrograd_core::ops::weighted_sum::weighted_sum(OP, &shape, &terms, &weights)?;
        Ok(ctx().insert(t))
    })())
}

#[no_mangle]
pub extern "C" fn fg_free(t: u32) -> i32 {
    ctx().free(t) as i32
}

/// Writes [dtype, requiresGrad, isLeaf, ndim, ...dims] to `out`; returns ndim.
#[no_mangle]
pub extern "C" fn fg_info(t: u32) -> i32 {
    let s = state();
    let e = match s.ctx.entry("info", t) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let v: &Tensor = &e.value;
    if v.ndim() > 60 {
        return fail(Error::value("info", "tensors with more than 60 dims are not supported"));
    }
    s.out[0] = v.dtype().code() as f64;
    s.out[1] = e.requires_grad as u8 as f64;
    s.out[2] = e.grad_fn.is_none() as u8 as f64;
    s.out[3] = v.ndim() as f64;
    for (i, &d) in v.shape.iter().enumerate() {
        s.out[4 + i] = d as f64;
    }
    v.ndim() as i32
}

/// Address of the tensor's elements (valid until the next call that allocates).
#[no_mangle]
pub extern "C" fn fg_data(t: u32) -> usize {
    match ctx().entry("data", t) {
        Ok(e) => match &*e.value.buf {
            ferrograd_core::buffer::Buffer::F32(v) => v.as_ptr() as usize,
            ferrograd_core::buffer::Buffer::I32(v) => v.as_ptr() as usize,
        },
        Err(e) => {
            fail(e);
            0
        }
    }
}

/// Writes [live tensors, their bytes, pooled bytes] to `out`.
#[no_mangle]
pub extern "C" fn fg_memory() -> i32 {
    let (n, bytes) = ctx().live();
    let out = &mut state().out;
    out[0] = n as f64;
    out[1] = bytes as f64;
    out[2] = ferrograd_core::buffer::pooled_bytes() as f64;
    0
}

#[no_mangle]
pub extern "C" fn fg_clear_pool() {
    ferrograd_core::buffer::clear_pool();
}

// ---- creation ----

#[no_mangle]
pub extern "C" fn fg_full(dt: u32, ndim: u32, value: f64) -> i32 {
    id((|| ctx().full(&ints(ndim)?, value, dtype(dt)?))())
}

#[no_mangle]
pub extern "C" fn fg_arange(start: f64, end: f64, step: f64, dt: u32) -> i32 {
    id((|| ctx().arange(start, end, step, dtype(dt)?))())
}

#[no_mangle]
pub extern "C" fn fg_linspace(start: f64, end: f64, steps: f64) -> i32 {
    id(ctx().linspace(start, end, steps as i64))
}

#[no_mangle]
pub extern "C" fn fg_eye(n: f64, m: f64, dt: u32) -> i32 {
    id((|| ctx().eye(n as i64, m as i64, dtype(dt)?))())
}

#[no_mangle]
pub extern "C" fn fg_manual_seed(seed: f64) {
    ctx().manual_seed(seed as u64);
}

#[no_mangle]
pub extern "C" fn fg_rand(ndim: u32, low: f32, high: f32) -> i32 {
    id((|| ctx().rand(&ints(ndim)?, low, high))())
}

#[no_mangle]
pub extern "C" fn fg_randn(ndim: u32, mean: f32, std: f32) -> i32 {
    id((|| ctx().randn(&ints(ndim)?, mean, std))())
}

#[no_mangle]
pub extern "C" fn fg_randint(low: f64, high: f64, ndim: u32) -> i32 {
    id((|| ctx().randint(low as i64, high as i64, &ints(ndim)?))())
}

#[no_mangle]
pub extern "C" fn fg_randperm(n: f64) -> i32 {
    id(ctx().randperm(n as i64))
}

#[no_mangle]
pub extern "C" fn fg_cast(t: u32, dt: u32) -> i32 {
    id((|| ctx().cast(t, dtype(dt)?))())
}

// ---- elementwise ----

#[no_mangle]
pub extern "C" fn fg_unary(code: u32, t: u32, p: f32, q: f32) -> i32 {
    id((|| ctx().unary(Unary::from_code(code, p, q)?, t))())
}

#[no_mangle]
pub extern "C" fn fg_binary(code: u32, a: u32, b: u32) -> i32 {
    id((|| ctx().binary(BinaryOp::from_code(code)?, a, b))())
}

#[no_mangle]
pub extern "C" fn fg_where(c: u32, a: u32, b: u32) -> i32 {
    id(ctx().where_(c, a, b))
}

#[no_mangle]
pub extern "C" fn fg_masked_fill(t: u32, mask: u32, value: f32) -> i32 {
    id(ctx().masked_fill(t, mask, value))
}

// ---- reductions ----

#[no_mangle]
pub extern "C" fn fg_sum(t: u32, ndims: u32, keepdim: u32, mean: u32) -> i32 {
    id((|| ctx().sum(t, &ints(ndims)?, keepdim != 0, mean != 0))())
}

/// Values id returned; the indices id goes to out[0].
#[no_mangle]
pub extern "C" fn fg_extremum_dim(t: u32, dim: f64, keepdim: u32, is_max: u32) -> i32 {
    match ctx().extremum_dim(t, dim as i64, keepdim != 0, is_max != 0) {
        Ok((v, i)) => {
            state().out[0] = i as f64;
            v as i32
        }
        Err(e) => fail(e),
    }
}

#[no_mangle]
pub extern "C" fn fg_extremum_all(t: u32, is_max: u32) -> i32 {
    id(ctx().extremum_all(t, is_max != 0))
}

#[no_mangle]
pub extern "C" fn fg_arg_extremum(t: u32, has_dim: u32, dim: f64, keepdim: u32, is_max: u32) -> i32 {
    id(ctx().arg_extremum(t, if has_dim != 0 { Some(dim as i64) } else { None }, keepdim != 0, is_max != 0))
}

#[no_mangle]
pub extern "C" fn fg_var(t: u32, ndims: u32, correction: f32, keepdim: u32) -> i32 {
    id((|| ctx().var(t, &ints(ndims)?, correction, keepdim != 0))())
}

#[no_mangle]
pub extern "C" fn fg_softmax(t: u32, dim: f64, log: u32) -> i32 {
    id(ctx().softmax(t, dim as i64, log != 0))
}

#[no_mangle]
pub extern "C" fn fg_matmul(a: u32, b: u32) -> i32 {
    id(ctx().matmul(a, b))
}

/// x·Wᵀ + b; bias 0 = none.
#[no_mangle]
pub extern "C" fn fg_linear(x: u32, w: u32, b: u32) -> i32 {
    id(ctx().linear(x, w, if b == 0 { None } else { Some(b) }))
}

// ---- shape ----

#[no_mangle]
pub extern "C" fn fg_reshape(t: u32, ndim: u32) -> i32 {
    id((|| ctx().reshape(t, &ints(ndim)?))())
}

#[no_mangle]
pub extern "C" fn fg_permute(t: u32, ndim: u32) -> i32 {
    id((|| ctx().permute(t, &ints(ndim)?))())
}

#[no_mangle]
pub extern "C" fn fg_transpose(t: u32, d0: f64, d1: f64) -> i32 {
    id(ctx().transpose(t, d0 as i64, d1 as i64))
}

#[no_mangle]
pub extern "C" fn fg_expand(t: u32, ndim: u32) -> i32 {
    id((|| ctx().expand(t, &ints(ndim)?))())
}

#[no_mangle]
pub extern "C" fn fg_cat(n: u32, dim: f64) -> i32 {
    id((|| ctx().cat(&ids(n)?, dim as i64))())
}

#[no_mangle]
pub extern "C" fn fg_stack(n: u32, dim: f64) -> i32 {
    id((|| ctx().stack(&ids(n)?, dim as i64))())
}

#[no_mangle]
pub extern "C" fn fg_narrow(t: u32, dim: f64, start: f64, length: f64) -> i32 {
    id(ctx().narrow(t, dim as i64, start as i64, length as i64))
}

#[no_mangle]
pub extern "C" fn fg_select(t: u32, dim: f64, index: f64) -> i32 {
    id(ctx().select(t, dim as i64, index as i64))
}

#[no_mangle]
pub extern "C" fn fg_index_select(t: u32, dim: f64, index: u32) -> i32 {
    id(ctx().index_select(t, dim as i64, index))
}

#[no_mangle]
pub extern "C" fn fg_gather(t: u32, dim: f64, index: u32) -> i32 {
    id(ctx().gather(t, dim as i64, index))
}

// ---- autograd ----

#[no_mangle]
pub extern "C" fn fg_set_requires_grad(t: u32, flag: u32) -> i32 {
    status(ctx().set_requires_grad(t, flag != 0))
}

/// The gradient's new handle, 0 when there is none.
#[no_mangle]
pub extern "C" fn fg_grad(t: u32) -> i32 {
    match ctx().grad(t) {
        Ok(Some(g)) => g as i32,
        Ok(None) => 0,
        Err(e) => fail(e),
    }
}

#[no_mangle]
pub extern "C" fn fg_set_grad(t: u32, g: u32) -> i32 {
    status(ctx().set_grad(t, if g == 0 { None } else { Some(g) }))
}

#[no_mangle]
pub extern "C" fn fg_detach(t: u32) -> i32 {
    id(ctx().detach(t))
}

#[no_mangle]
pub extern "C" fn fg_backward(t: u32, grad: u32, retain: u32) -> i32 {
    status(ctx().backward(t, if grad == 0 { None } else { Some(grad) }, retain != 0))
}

/// Sets grad mode and returns the previous one.
#[no_mangle]
pub extern "C" fn fg_set_grad_enabled(flag: u32) -> u32 {
    let c = ctx();
    let prev = c.grad_enabled;
    c.grad_enabled = flag != 0;
    prev as u32
}

/// Writes the grad_fn name to the text area; returns its length.
#[no_mangle]
pub extern "C" fn fg_grad_fn(t: u32) -> i32 {
    match ctx().grad_fn_name(t) {
        Ok(n) => {
            let s = &mut state().text;
            s.clear();
            s.push_str(n);
            n.len() as i32
        }
        Err(e) => fail(e),
    }
}

// ---- in place ----

/// kind 0: a += alpha·b, 1: a *= b, 2: a = b.
#[no_mangle]
pub extern "C" fn fg_inplace(kind: u32, a: u32, b: u32, alpha: f32) -> i32 {
    let k = match kind {
        0 => InPlace::Add { alpha },
        1 => InPlace::Mul,
        2 => InPlace::Copy,
        _ => return fail(Error::value("inplace", format!("unknown in-place op code {}", kind))),
    };
    status(ctx().inplace(k, a, b))
}

#[no_mangle]
pub extern "C" fn fg_fill(t: u32, value: f64) -> i32 {
    status(ctx().fill_(t, value))
}

// ---- losses and optimizers ----

/// Per-position cross-entropy; the 'mean' denominator goes to out[0]. weight 0 = none.
#[no_mangle]
pub extern "C" fn fg_cross_entropy(x: u32, target: u32, weight: u32, ignore_index: f64, label_smoothing: f32) -> i32 {
    let o = CrossEntropyOptions { ignore_index: ignore_index as i64, label_smoothing };
    match ctx().cross_entropy(x, target, if weight == 0 { None } else { Some(weight) }, o) {
        Ok((l, denom)) => {
            state().out[0] = denom;
            l as i32
        }
        Err(e) => fail(e),
    }
}

/// Per-element binary cross-entropy on logits; pos_weight 0 = none.
#[no_mangle]
pub extern "C" fn fg_bce_with_logits(x: u32, target: u32, pos_weight: u32) -> i32 {
    id(ctx().bce_with_logits(x, target, if pos_weight == 0 { None } else { Some(pos_weight) }))
}

/// One fused optimizer update. args = [state ids (nstate)..., hyperparameters...] in
/// the order of `Update`'s fields; kind 0 SGD, 1 Adam/AdamW, 2 RMSprop, 3 Adagrad.
#[no_mangle]
pub extern "C" fn fg_optimizer_step(kind: u32, param: u32, grad: u32, nstate: u32) -> i32 {
    status((|| {
        let a = &state().args;
        let ns = nstate as usize;
        let need = ns + [7, 10, 7, 4].get(kind as usize).copied().unwrap_or(0);
        if kind > 3 || a.len() < need {
            return Err(Error::value("optimizer.step", format!("bad optimizer kind {} or too few staged arguments", kind)));
        }
        let st: Vec<u32> = a[..ns].iter().map(|&v| v as u32).collect();
        let h: Vec<f32> = a[ns..need].iter().map(|&v| v as f32).collect();
        let u = match kind {
            0 => Update::Sgd { lr: h[0], momentum: h[1], dampening: h[2], weight_decay: h[3], nesterov: h[4] != 0.0, maximize: h[5] != 0.0, first: h[6] != 0.0 },
            1 => Update::Adam {
                lr: h[0],
                beta1: h[1],
                beta2: h[2],
                eps: h[3],
                weight_decay: h[4],
                amsgrad: h[5] != 0.0,
                decoupled: h[6] != 0.0,
                maximize: h[7] != 0.0,
                step_size: h[8],
                bc2_sqrt: h[9],
            },
            2 => Update::RmsProp { lr: h[0], alpha: h[1], eps: h[2], weight_decay: h[3], momentum: h[4], centered: h[5] != 0.0, maximize: h[6] != 0.0 },
            _ => Update::Adagrad { clr: h[0], eps: h[1], weight_decay: h[2], maximize: h[3] != 0.0 },
        };
        ctx().optimizer_step(u, param, grad, &st)
    })())
}

// ---- convolution and pooling ----

/// args = [stride h, stride w, pad top, pad bottom, pad left, pad right, dilation h,
/// dilation w, groups]; bias 0 = none.
#[no_mangle]
pub extern "C" fn fg_conv2d(x: u32, weight: u32, bias: u32, nargs: u32) -> i32 {
    id((|| {
        let p = ferrograd_core::ops::conv::Conv2dParams::from_ints("conv2d", &ints(nargs)?)?;
        ctx().conv2d(x, weight, if bias == 0 { None } else { Some(bias) }, p)
    })())
}

/// args = [kH, kW, sH, sW, padH, padW, dilationH, dilationW, ceil_mode, count_include_pad];
/// kind 0 max (indices id to out[0]), 1 average, 2 max without an indices handle.
#[no_mangle]
pub extern "C" fn fg_pool2d(kind: u32, x: u32, nargs: u32) -> i32 {
    let op = if kind == 1 { "avg_pool2d" } else { "max_pool2d" };
    let p = match ints(nargs).and_then(|v| ferrograd_core::ops::pool::Pool2dParams::from_ints(op, &v)) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    match kind {
        0 => match ctx().max_pool2d(x, p) {
            Ok((v, i)) => {
                state().out[0] = i as f64;
                v as i32
            }
            Err(e) => fail(e),
        },
        1 => id(ctx().avg_pool2d(x, p)),
        2 => id(ctx().max_pool2d_no_indices(x, p)),
        _ => fail(Error::value("pool2d", format!("unknown pooling kind {}", kind))),
    }
}

#[no_mangle]
pub extern "C" fn fg_adaptive_avg_pool2d(x: u32, oh: f64, ow: f64) -> i32 {
    id(ctx().adaptive_avg_pool2d(x, &[oh as i64, ow as i64]))
}

/// One recurrent layer-direction (mode 0 tanh, 1 relu, 2 LSTM, 3 GRU) over a time-major
/// sequence; c0 and the biases are 0 when absent. `nlengths` < 0 means no lengths; otherwise
/// args holds that many per-batch lengths. Returns the packed `[T + S, B, H]` output.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fg_rnn(mode: u32, x: u32, h0: u32, c0: u32, w_ih: u32, w_hh: u32, b_ih: u32, b_hh: u32, reverse: u32, nlengths: i32) -> i32 {
    use ferrograd_core::ops::rnn::RnnMode;
    id((|| {
        let mode = RnnMode::from_code("rnn", mode)?;
        let lengths = if nlengths < 0 {
            None
        } else {
            let l = ints(nlengths as u32)?;
            if let Some(bad) = l.iter().find(|&&v| v < 0) {
                return Err(Error::value(mode.name(), format!("lengths must be non-negative, got {}", bad)));
            }
            Some(l.into_iter().map(|v| v as usize).collect())
        };
        let bias = match (b_ih, b_hh) {
            (0, 0) => None,
            (a, b) => Some((a, b)),
        };
        ctx().rnn(mode, x, h0, if c0 == 0 { None } else { Some(c0) }, w_ih, w_hh, bias, reverse != 0, lengths)
    })())
}
