//! Recurrent layers (Elman RNN with tanh or relu, LSTM, GRU) as ONE fused op per layer and
//! direction: the whole sequence runs inside one recorded node instead of dozens of small ops
//! per step, so the graph stays O(1) in the sequence length and backward is a single reverse
//! walk through time (backpropagation through time).
//!
//! Forward: the input projections of all steps are one GEMM (`[T·B, I]·W_ihᵀ`); each step then
//! does one GEMM for the hidden projection (`[B, H]·W_hhᵀ`) and one fused gate kernel
//! (`kernels::rnn`). Backward walks time in reverse with one GEMM per step for the gradient
//! of the previous state, then gets dW_ih, dW_hh and dX from three GEMMs over all steps.
//!
//! Weights use PyTorch's layouts (`weight_ih [G·H, I]`, `weight_hh [G·H, H]`, biases `[G·H]`,
//! gate order i,f,g,o for LSTM and r,z,n for GRU), so PyTorch state dicts load unchanged.
//!
//! The op's single output packs everything a caller reads: `[T + S, B, H]` where rows `0..T`
//! are the per-step outputs (time-major), row `T` is the final hidden state and, for LSTM,
//! row `T + 1` the final cell state. One output keeps the op a plain graph node; the
//! TypeScript layer narrows the pieces out, and their gradients meet again here.
//!
//! Variable lengths: with `lengths[b]`, steps `t ≥ lengths[b]` of batch element `b` are
//! padding: its state is carried through unchanged and its output there is zero, so the final
//! state is the state after its last real step, as with PyTorch's packed sequences. The
//! reverse direction starts at each element's own last real step for the same reason.

use crate::autograd::Op;
use crate::context::{Context, Id};
use crate::error::{fmt_shape, Error, Result};
use crate::kernels::gemm::gemm;
use crate::kernels::rnn as k;
use crate::tensor::{new_f32, Tensor};

/// The recurrence of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RnnMode {
    Tanh,
    Relu,
    Lstm,
    Gru,
}

impl RnnMode {
    /// Codes shared with ts/wasm/ops.ts.
    pub fn from_code(op: &'static str, code: u32) -> Result<RnnMode> {
        match code {
            0 => Ok(RnnMode::Tanh),
            1 => Ok(RnnMode::Relu),
            2 => Ok(RnnMode::Lstm),
            3 => Ok(RnnMode::Gru),
            _ => Err(Error::value(op, format!("unknown recurrent mode {} (expected 0 tanh, 1 relu, 2 LSTM, 3 GRU)", code))),
        }
    }
    /// Gate blocks stacked in the weights.
    pub fn gates(self) -> usize {
        match self {
            RnnMode::Tanh | RnnMode::Relu => 1,
            RnnMode::Lstm => 4,
            RnnMode::Gru => 3,
        }
    }
    /// State tensors carried between steps (h, or h and c).
    pub fn states(self) -> usize {
        if self == RnnMode::Lstm {
            2
        } else {
            1
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            RnnMode::Tanh => "rnn_tanh",
            RnnMode::Relu => "rnn_relu",
            RnnMode::Lstm => "lstm",
            RnnMode::Gru => "gru",
        }
    }
    /// Per-step values saved for backward beyond the states: activated LSTM gates, or
    /// GRU's r, z, n and W_hn·h + b_hn; the Elman cell needs only its output.
    fn saved_width(self, h: usize) -> usize {
        match self {
            RnnMode::Tanh | RnnMode::Relu => 0,
            RnnMode::Lstm | RnnMode::Gru => 4 * h,
        }
    }
}

/// The inputs of one layer-direction, as values.
pub struct RnnInputs<'a> {
    pub x: &'a Tensor,
    pub h0: &'a Tensor,
    pub c0: Option<&'a Tensor>,
    pub w_ih: &'a Tensor,
    pub w_hh: &'a Tensor,
    pub b_ih: Option<&'a Tensor>,
    pub b_hh: Option<&'a Tensor>,
}

/// Everything backward needs, kept by the graph node.
#[derive(Debug)]
pub struct RnnSaved {
    pub mode: RnnMode,
    pub reverse: bool,
    pub lengths: Option<Vec<usize>>,
    pub x: Tensor,
    pub h0: Tensor,
    pub c0: Option<Tensor>,
    pub w_ih: Tensor,
    pub w_hh: Tensor,
    pub has_bias: bool,
    /// State after each time index, `[T, B, H]` (also at padded steps, where it is carried).
    pub hs: Tensor,
    /// LSTM cell state after each time index, `[T, B, H]`.
    pub cs: Option<Tensor>,
    /// `[T, B, saved_width]`, see `RnnMode::saved_width`.
    pub gates: Tensor,
    /// Whether the input wants a gradient (dX is the largest GEMM of backward).
    pub need_x: bool,
}

/// (T, B, I, H) after checking every shape against the mode.
fn check(op: &'static str, mode: RnnMode, v: &RnnInputs, lengths: Option<&[usize]>) -> Result<(usize, usize, usize, usize)> {
    let g = mode.gates();
    if v.x.ndim() != 3 {
        return Err(Error::shape(op, format!("input must be 3-D [seq_len, batch, input_size] (time-major), got {}", fmt_shape(&v.x.shape))));
    }
    let (t, b, i) = (v.x.shape[0], v.x.shape[1], v.x.shape[2]);
    if v.w_hh.ndim() != 2 || v.w_hh.shape[0] != g * v.w_hh.shape[1] {
        return Err(Error::shape(
            op,
            format!("weight_hh must be [{}·hidden_size, hidden_size], got {}", g, fmt_shape(&v.w_hh.shape)),
        ));
    }
    let h = v.w_hh.shape[1];
    if v.w_ih.shape != [g * h, i] {
        return Err(Error::shape(
            op,
            format!(
                "weight_ih must be [{}, {}] ({}·hidden_size, input_size) for input {} and weight_hh {}, got {}",
                g * h,
                i,
                g,
                fmt_shape(&v.x.shape),
                fmt_shape(&v.w_hh.shape),
                fmt_shape(&v.w_ih.shape)
            ),
        ));
    }
    if v.h0.shape != [b, h] {
        return Err(Error::shape(op, format!("initial hidden state must be [{}, {}] (batch, hidden_size), got {}", b, h, fmt_shape(&v.h0.shape))));
    }
    match (mode, v.c0) {
        (RnnMode::Lstm, Some(c0)) if c0.shape != [b, h] => {
            return Err(Error::shape(op, format!("initial cell state must be [{}, {}] (batch, hidden_size), got {}", b, h, fmt_shape(&c0.shape))));
        }
        (RnnMode::Lstm, None) => return Err(Error::value(op, "LSTM needs an initial cell state")),
        (RnnMode::Lstm, _) | (_, None) => {}
        (_, Some(_)) => return Err(Error::value(op, format!("{} has no cell state; pass none", mode.name()))),
    }
    if v.b_ih.is_some() != v.b_hh.is_some() {
        return Err(Error::value(op, "pass both biases (bias_ih and bias_hh) or neither"));
    }
    for bias in [v.b_ih, v.b_hh].iter().flatten() {
        if bias.shape != [g * h] {
            return Err(Error::shape(op, format!("biases must be [{}] ({}·hidden_size), got {}", g * h, g, fmt_shape(&bias.shape))));
        }
    }
    if let Some(l) = lengths {
        if l.len() != b {
            return Err(Error::value(op, format!("lengths has {} entries but the batch has {}", l.len(), b)));
        }
        if let Some(bad) = l.iter().find(|&&n| n > t) {
            return Err(Error::value(op, format!("a length of {} exceeds the sequence length {} of input {}", bad, t, fmt_shape(&v.x.shape))));
        }
    }
    Ok((t, b, i, h))
}

/// Adds a bias row to each of the `rows` rows of `m`.
fn add_rows(m: &mut [f32], bias: Option<&[f32]>, width: usize) {
    if let Some(bv) = bias {
        for row in m.chunks_exact_mut(width) {
            for (x, &y) in row.iter_mut().zip(bv) {
                *x += y;
            }
        }
    }
}

/// Time index of processing step `s` (reverse layers walk from the end).
fn time_of(reverse: bool, t: usize, s: usize) -> usize {
    if reverse {
        t - 1 - s
    } else {
        s
    }
}

fn set_active(active: &mut [bool], lengths: Option<&[usize]>, tt: usize) {
    for (b, a) in active.iter_mut().enumerate() {
        *a = lengths.map_or(true, |l| tt < l[b]);
    }
}

/// Runs one layer-direction over the whole sequence. Returns the packed output
/// `[T + S, B, H]` and what backward needs.
pub fn rnn_values(mode: RnnMode, v: &RnnInputs, reverse: bool, lengths: Option<Vec<usize>>, need_x: bool) -> Result<(Tensor, RnnSaved)> {
    let op = mode.name();
    let (t, b, i, h) = check(op, mode, v, lengths.as_deref())?;
    let gh_w = mode.gates() * h;
    let sw = mode.saved_width(h);
    let xs = v.x.f32s(op)?;
    let (w_ih, w_hh) = (v.w_ih.f32s(op)?, v.w_hh.f32s(op)?);
    let b_ih = match v.b_ih {
        Some(t) => Some(t.f32s(op)?),
        None => None,
    };
    let b_hh = match v.b_hh {
        Some(t) => Some(t.f32s(op)?),
        None => None,
    };

    // All input projections at once: [T·B, I]·W_ihᵀ + b_ih.
    let gi = new_f32(op, &[t, b, gh_w], |o| {
        gemm(t * b, gh_w, i, xs, false, w_ih, true, o, false);
        add_rows(o, b_ih, gh_w);
    })?;
    let gi = gi.f32s(op)?;

    let mut hcur = v.h0.f32s(op)?.to_vec();
    let mut ccur = match v.c0 {
        Some(c) => c.f32s(op)?.to_vec(),
        None => Vec::new(),
    };
    let mut hnext = vec![0f32; b * h];
    let mut cnext = vec![0f32; ccur.len()];
    let mut ghb = vec![0f32; b * gh_w];
    let mut active = vec![true; b];
    let mut hs = crate::buffer::alloc_f32(op, t * b * h)?;
    let mut cs = if mode == RnnMode::Lstm { crate::buffer::alloc_f32(op, t * b * h)? } else { Vec::new() };
    let mut gates = crate::buffer::alloc_f32(op, t * b * sw)?;

    for s in 0..t {
        let tt = time_of(reverse, t, s);
        set_active(&mut active, lengths.as_deref(), tt);
        // Hidden projection of this step: [B, H]·W_hhᵀ + b_hh.
        gemm(b, gh_w, h, &hcur, false, w_hh, true, &mut ghb, false);
        add_rows(&mut ghb, b_hh, gh_w);
        let gi_t = &gi[tt * b * gh_w..(tt + 1) * b * gh_w];
        let gates_t = &mut gates[tt * b * sw..(tt + 1) * b * sw];
        match mode {
            RnnMode::Tanh | RnnMode::Relu => k::rnn_step(mode == RnnMode::Relu, h, gi_t, &ghb, &hcur, &active, &mut hnext),
            RnnMode::Lstm => k::lstm_step(h, gi_t, &ghb, &hcur, &ccur, &active, gates_t, &mut hnext, &mut cnext),
            RnnMode::Gru => k::gru_step(h, gi_t, &ghb, &hcur, &active, gates_t, &mut hnext),
        }
        hs[tt * b * h..(tt + 1) * b * h].copy_from_slice(&hnext);
        std::mem::swap(&mut hcur, &mut hnext);
        if mode == RnnMode::Lstm {
            cs[tt * b * h..(tt + 1) * b * h].copy_from_slice(&cnext);
            std::mem::swap(&mut ccur, &mut cnext);
        }
    }

    let nst = mode.states();
    let out = new_f32(op, &[t + nst, b, h], |o| {
        for tt in 0..t {
            for bb in 0..b {
                if lengths.as_ref().map_or(true, |l| tt < l[bb]) {
                    let r = (tt * b + bb) * h..(tt * b + bb + 1) * h;
                    o[r.clone()].copy_from_slice(&hs[r]);
                }
            }
        }
        o[t * b * h..(t + 1) * b * h].copy_from_slice(&hcur);
        if mode == RnnMode::Lstm {
            o[(t + 1) * b * h..(t + 2) * b * h].copy_from_slice(&ccur);
        }
    })?;
    let saved = RnnSaved {
        mode,
        reverse,
        lengths,
        x: v.x.clone(),
        h0: v.h0.clone(),
        c0: v.c0.cloned(),
        w_ih: v.w_ih.clone(),
        w_hh: v.w_hh.clone(),
        has_bias: v.b_ih.is_some(),
        hs: Tensor::from_f32(vec![t, b, h], hs),
        cs: if mode == RnnMode::Lstm { Some(Tensor::from_f32(vec![t, b, h], cs)) } else { None },
        gates: Tensor::from_f32(vec![t, b, sw], gates),
        need_x,
    };
    Ok((out, saved))
}

/// Column sums of a `[rows, width]` matrix: a bias gradient.
fn col_sums(op: &'static str, m: &[f32], width: usize) -> Result<Tensor> {
    new_f32(op, &[width], |o| {
        for row in m.chunks_exact(width) {
            for (s, &x) in o.iter_mut().zip(row) {
                *s += x;
            }
        }
    })
}

// Backpropagation through time. With the per-step pre-activation gradients
// DA_t = ∂L/∂(x_t W_ihᵀ + b_ih) and DAh_t = ∂L/∂(h_{t−1} W_hhᵀ + b_hh) (equal except for
// GRU's n gate, where DAh_n = DA_n ⊙ r), walking steps in reverse:
//   dh_t  = ∂L/∂out_t + (dh carried from step t+1), starting from ∂L/∂h_N
//   dh_{t−1} = DAh_t · W_hh + (direct terms: GRU's z ⊙ dh_t; padded rows pass dh_t)
//   dc_{t−1} = dc_t^tot ⊙ f_t (LSTM), starting from ∂L/∂c_N
// then over all steps at once:
//   dW_ih = DAᵀ·X,  dW_hh = DAhᵀ·H_prev,  db_ih = Σ DA,  db_hh = Σ DAh,  dX = DA·W_ih,
// and dh_0, dc_0 are what is carried past the first step.
pub fn rnn_backward(g: &Tensor, s: &RnnSaved) -> Result<Vec<Option<Tensor>>> {
    let op = "rnn_backward";
    let mode = s.mode;
    let (t, b, i) = (s.x.shape[0], s.x.shape[1], s.x.shape[2]);
    let h = s.w_hh.shape[1];
    let gh_w = mode.gates() * h;
    let sw = mode.saved_width(h);
    let bh = b * h;
    let gs = g.f32s(op)?;
    let (xs, w_ih, w_hh) = (s.x.f32s(op)?, s.w_ih.f32s(op)?, s.w_hh.f32s(op)?);
    let (hs, gates) = (s.hs.f32s(op)?, s.gates.f32s(op)?);
    let h0 = s.h0.f32s(op)?;
    let cs: &[f32] = match &s.cs {
        Some(c) => c.f32s(op)?,
        None => &[],
    };
    let c0: &[f32] = match &s.c0 {
        Some(c) => c.f32s(op)?,
        None => &[],
    };
    let lengths = s.lengths.as_deref();

    let mut dh = gs[t * bh..(t + 1) * bh].to_vec();
    let mut dc = if mode == RnnMode::Lstm { gs[(t + 1) * bh..(t + 2) * bh].to_vec() } else { Vec::new() };
    let mut dh_tot = vec![0f32; bh];
    let mut dc_prev = vec![0f32; dc.len()];
    let mut active = vec![true; b];
    let mut da = crate::buffer::alloc_f32(op, t * b * gh_w)?;
    let mut da_h = if mode == RnnMode::Gru { crate::buffer::alloc_f32(op, t * b * gh_w)? } else { Vec::new() };
    for step in (0..t).rev() {
        let tt = time_of(s.reverse, t, step);
        set_active(&mut active, lengths, tt);
        // The output of a padded step is a constant zero: no gradient flows from it.
        for (bb, &on) in active.iter().enumerate() {
            for at in bb * h..(bb + 1) * h {
                dh_tot[at] = dh[at] + if on { gs[tt * bh + at] } else { 0.0 };
            }
        }
        let da_t = &mut da[tt * b * gh_w..(tt + 1) * b * gh_w];
        let gates_t = &gates[tt * b * sw..(tt + 1) * b * sw];
        // Each kernel leaves in `dh` the direct part of dh_{t−1}; the GEMM below adds the rest.
        match mode {
            RnnMode::Tanh | RnnMode::Relu => {
                k::rnn_step_backward(mode == RnnMode::Relu, h, &dh_tot, &hs[tt * bh..(tt + 1) * bh], &active, da_t, &mut dh)
            }
            RnnMode::Lstm => {
                let cp = prev_state(s.reverse, t, tt, cs, c0, bh);
                k::lstm_step_backward(h, &dh_tot, &dc, gates_t, cp, &cs[tt * bh..(tt + 1) * bh], &active, da_t, &mut dh, &mut dc_prev);
                std::mem::swap(&mut dc, &mut dc_prev);
            }
            RnnMode::Gru => {
                let hp = prev_state(s.reverse, t, tt, hs, h0, bh);
                k::gru_step_backward(h, &dh_tot, gates_t, hp, &active, da_t, &mut da_h[tt * b * gh_w..(tt + 1) * b * gh_w], &mut dh);
            }
        }
        let dah_t = if mode == RnnMode::Gru { &da_h[tt * b * gh_w..(tt + 1) * b * gh_w] } else { &da[tt * b * gh_w..(tt + 1) * b * gh_w] };
        gemm(b, h, gh_w, dah_t, false, w_hh, false, &mut dh, true);
    }
    let dah: &[f32] = if mode == RnnMode::Gru { &da_h } else { &da };

    // The state each time index started from, as one matrix for the dW_hh GEMM.
    let mut hprev = crate::buffer::alloc_f32(op, t * bh)?;
    for tt in 0..t {
        hprev[tt * bh..(tt + 1) * bh].copy_from_slice(prev_state(s.reverse, t, tt, hs, h0, bh));
    }
    let gw_hh = new_f32(op, &[gh_w, h], |o| gemm(gh_w, h, t * b, dah, true, &hprev, false, o, false))?;
    let gw_ih = new_f32(op, &[gh_w, i], |o| gemm(gh_w, i, t * b, &da, true, xs, false, o, false))?;
    let gx = if s.need_x { Some(new_f32(op, &[t, b, i], |o| gemm(t * b, i, gh_w, &da, false, w_ih, false, o, false))?) } else { None };

    let mut grads = vec![gx, Some(Tensor::from_f32(vec![b, h], dh))];
    if mode == RnnMode::Lstm {
        grads.push(Some(Tensor::from_f32(vec![b, h], dc)));
    }
    grads.push(Some(gw_ih));
    grads.push(Some(gw_hh));
    if s.has_bias {
        grads.push(Some(col_sums(op, &da, gh_w)?));
        grads.push(Some(col_sums(op, dah, gh_w)?));
    }
    Ok(grads)
}

/// The state that time index `tt` started from: `init` for the first processed step, else
/// the state saved after the previous step (`width` floats per time index).
fn prev_state<'a>(reverse: bool, t: usize, tt: usize, all: &'a [f32], init: &'a [f32], width: usize) -> &'a [f32] {
    let first = if reverse { tt + 1 == t } else { tt == 0 };
    if first {
        return init;
    }
    let p = if reverse { tt + 1 } else { tt - 1 };
    &all[p * width..(p + 1) * width]
}

impl Context {
    /// One layer-direction of a recurrent layer over a time-major sequence; see the module
    /// docs for the packed output. `c0` is given exactly for LSTM; the biases both or neither.
    #[allow(clippy::too_many_arguments)]
    pub fn rnn(
        &mut self,
        mode: RnnMode,
        x: Id,
        h0: Id,
        c0: Option<Id>,
        w_ih: Id,
        w_hh: Id,
        bias: Option<(Id, Id)>,
        reverse: bool,
        lengths: Option<Vec<usize>>,
    ) -> Result<Id> {
        let op = mode.name();
        let xv = self.get(op, x)?;
        let h0v = self.get(op, h0)?;
        let c0v = match c0 {
            Some(c) => Some(self.get(op, c)?),
            None => None,
        };
        let (wi, wh) = (self.get(op, w_ih)?, self.get(op, w_hh)?);
        let (bi, bh) = match bias {
            Some((a, b)) => (Some(self.get(op, a)?), Some(self.get(op, b)?)),
            None => (None, None),
        };
        let need_x = self.entry(op, x)?.requires_grad;
        let v = RnnInputs { x: &xv, h0: &h0v, c0: c0v.as_ref(), w_ih: &wi, w_hh: &wh, b_ih: bi.as_ref(), b_hh: bh.as_ref() };
        let mut inputs = vec![x, h0];
        inputs.extend(c0);
        inputs.extend([w_ih, w_hh]);
        if let Some((a, b)) = bias {
            inputs.extend([a, b]);
        }
        let (out, saved) = rnn_values(mode, &v, reverse, lengths, need_x)?;
        let name = match mode {
            RnnMode::Tanh => "RnnTanhBackward",
            RnnMode::Relu => "RnnReluBackward",
            RnnMode::Lstm => "LstmBackward",
            RnnMode::Gru => "GruBackward",
        };
        self.record(name, &inputs, out, move || Op::Rnn(Box::new(saved)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn vals(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 20000) as f32 / 10000.0 - 1.0
            })
            .collect()
    }

    /// Inputs [x, h0, (c0), w_ih, w_hh, b_ih, b_hh] for a small layer.
    fn inputs(mode: RnnMode, t: usize, b: usize, i: usize, h: usize) -> Vec<Tensor> {
        let g = mode.gates();
        let mut shapes = vec![vec![t, b, i], vec![b, h]];
        if mode == RnnMode::Lstm {
            shapes.push(vec![b, h]);
        }
        shapes.extend([vec![g * h, i], vec![g * h, h], vec![g * h], vec![g * h]]);
        shapes.into_iter().enumerate().map(|(k, s)| Tensor::from_f32(s.clone(), vals(s.iter().product(), k as u32 + 1))).collect()
    }

    fn run(mode: RnnMode, ts: &[Tensor], reverse: bool, lengths: Option<Vec<usize>>) -> Result<(Tensor, RnnSaved)> {
        let lstm = mode == RnnMode::Lstm;
        let o = if lstm { 1 } else { 0 };
        let v = RnnInputs {
            x: &ts[0],
            h0: &ts[1],
            c0: if lstm { Some(&ts[2]) } else { None },
            w_ih: &ts[2 + o],
            w_hh: &ts[3 + o],
            b_ih: Some(&ts[4 + o]),
            b_hh: Some(&ts[5 + o]),
        };
        rnn_values(mode, &v, reverse, lengths, true)
    }

    /// Backward against central differences of Σ w·out for every input element.
    fn fd_check(mode: RnnMode, reverse: bool, lengths: Option<Vec<usize>>) {
        let ts = inputs(mode, 4, 3, 2, 3);
        let (out, saved) = run(mode, &ts, reverse, lengths.clone()).unwrap();
        let w = vals(out.numel(), 99);
        let gw = Tensor::from_f32(out.shape.clone(), w.clone());
        let grads = rnn_backward(&gw, &saved).unwrap();
        let loss = |ts: &[Tensor]| -> f64 {
            let (o, _) = run(mode, ts, reverse, lengths.clone()).unwrap();
            o.f32s("t").unwrap().iter().zip(&w).map(|(&a, &b)| a as f64 * b as f64).sum()
        };
        let eps = 1e-2f32;
        for (k, g) in grads.iter().enumerate() {
            let g = g.as_ref().unwrap();
            assert_eq!(g.shape, ts[k].shape, "{:?} input {}", mode, k);
            for j in 0..ts[k].numel() {
                let mut moved = ts.to_vec();
                let mut d = ts[k].f32s("t").unwrap().to_vec();
                d[j] += eps;
                moved[k] = Tensor::from_f32(ts[k].shape.clone(), d.clone());
                let up = loss(&moved);
                d[j] -= 2.0 * eps;
                moved[k] = Tensor::from_f32(ts[k].shape.clone(), d);
                let down = loss(&moved);
                let num = (up - down) / (2.0 * eps as f64);
                let got = g.f32s("t").unwrap()[j] as f64;
                assert!((got - num).abs() <= 2e-3 + 2e-2 * num.abs().max(got.abs()), "{:?} rev={} input {} elem {}: {} vs {}", mode, reverse, k, j, got, num);
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        for mode in [RnnMode::Tanh, RnnMode::Lstm, RnnMode::Gru] {
            for reverse in [false, true] {
                fd_check(mode, reverse, None);
                fd_check(mode, reverse, Some(vec![4, 2, 0]));
            }
        }
    }

    #[test]
    fn padded_steps_carry_state_and_output_zero() {
        let ts = inputs(RnnMode::Gru, 5, 2, 2, 3);
        let (full, _) = run(RnnMode::Gru, &ts, false, None).unwrap();
        let (short, _) = run(RnnMode::Gru, &ts, false, Some(vec![5, 2])).unwrap();
        let (f, s) = (full.f32s("t").unwrap(), short.f32s("t").unwrap());
        // Batch element 1 stops after step 1: its final state is its output at step 1.
        assert_eq!(&s[5 * 6 + 3..5 * 6 + 6], &f[6 + 3..6 + 6]);
        assert!(s[2 * 6 + 3..2 * 6 + 6].iter().all(|&v| v == 0.0));
        assert_eq!(&s[..3], &f[..3]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let ts = inputs(RnnMode::Lstm, 2, 2, 3, 4);
        let x = Tensor::from_f32(vec![2, 2, 5], vec![0.0; 20]);
        let v = RnnInputs { x: &x, h0: &ts[1], c0: Some(&ts[2]), w_ih: &ts[3], w_hh: &ts[4], b_ih: None, b_hh: None };
        let e = rnn_values(RnnMode::Lstm, &v, false, None, false).unwrap_err();
        assert!(e.to_string().starts_with("lstm: weight_ih must be [16, 5]"), "{}", e);
        let v = RnnInputs { x: &ts[0], h0: &ts[1], c0: None, w_ih: &ts[3], w_hh: &ts[4], b_ih: None, b_hh: None };
        assert!(rnn_values(RnnMode::Lstm, &v, false, None, false).is_err());
        let v = RnnInputs { x: &ts[0], h0: &ts[1], c0: Some(&ts[2]), w_ih: &ts[3], w_hh: &ts[4], b_ih: None, b_hh: None };
        assert!(rnn_values(RnnMode::Lstm, &v, false, Some(vec![3, 1]), false).is_err());
        assert!(rnn_values(RnnMode::Lstm, &v, false, Some(vec![1]), false).is_err());
        assert!(rnn_values(RnnMode::Lstm, &v, false, Some(vec![2, 0]), false).is_ok());
    }
}
