// TensorFlow.js side of `npm run bench`: `--backend wasm` (XNNPACK, SIMD, one thread) or
// `--backend cpu` (plain JS). Models are written with tfjs-core ops the way tfjs-layers runs
// them (NHWC, [in, out] dense kernels, fused matMul/conv2d with bias + ReLU).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// The union package registers every gradient (tfjs-core alone ships none) and the cpu backend.
import '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { WORKLOADS, measure, parseArgs, planFrom, report } from '../common.js';

const args = parseArgs(process.argv.slice(2));
const plan = planFrom(args);
const backend = args.backend === 'cpu' ? 'cpu' : 'wasm';
const wanted = typeof args.workloads === 'string' ? args.workloads.split(',') : WORKLOADS.map((w) => w.id);
const notes: string[] = [];

if (backend === 'wasm') {
  // The .wasm files ship inside the npm package; load them from node_modules, never the network.
  const require = createRequire(import.meta.url);
  setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'))}/`);
  // One thread, like the other columns (the threaded build would also need a worker script).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerConv2DBackpropFilterStandIn();
}
await tf.setBackend(backend);
await tf.ready();
if (backend === 'wasm') notes.push(`stand-in check against tfjs-cpu's kernel: max |Δ| = ${(await checkStandIn()).toExponential(1)}`);
if (backend === 'wasm') notes.push(`wasm SIMD: ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, threads: off`);

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so the CNN cannot train on it. This
 * stand-in computes the filter gradient as a wasm Conv2D of transposed operands (stride 1,
 * no dilation, explicit or 'valid' padding, NHWC):
 *   dW[i, j, c, o] = Σ_{n, y, x} X[n, y+i, x+j, c] · dY[n, y, x, o]
 *                  = Conv2D(input = Xᵀ [C, H, W, N], filter = dYᵀ [oh, ow, N, O])[c, i, j, o]
 * followed by one transpose to [kh, kw, C, O].
 */
function registerConv2DBackpropFilterStandIn(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  notes.push('Conv2DBackpropFilter: not in tfjs-backend-wasm; registered a stand-in that runs it as a wasm Conv2D of transposed operands');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const conv2d = tf.getKernel('Conv2D', 'wasm')!.kernelFunc;
      const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, dataFormat } = attrs as unknown as { strides: number | [number, number]; pad: unknown; dataFormat: string };
      const s = Array.isArray(strides) ? strides : [strides, strides];
      if (s[0] !== 1 || s[1] !== 1 || (dataFormat ?? 'NHWC') !== 'NHWC' || !(pad === 'valid' || pad === 0)) {
        throw new Error(`Conv2DBackpropFilter stand-in: only stride 1, NHWC, 'valid' padding (got strides ${s}, pad ${String(pad)})`);
      }
      const run = (f: tf.KernelFunc, ins: tf.NamedTensorInfoMap, at: tf.NamedAttrMap) => f({ inputs: ins, backend: b, attrs: at }) as tf.TensorInfo;
      const xT = run(transpose, { x }, { perm: [3, 1, 2, 0] });
      const dyT = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] });
      const r = run(conv2d, { x: xT, filter: dyT }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
      const out = run(transpose, { x: r }, { perm: [1, 2, 0, 3] });
      for (const t of [xT, dyT, r]) (b as tf.KernelBackend).disposeData(t.dataId);
      return out;
    },
  });
}

/** Max |difference| of the stand-in's filter gradient from tfjs-cpu's own kernel on one CNN-sized case. */
async function checkStandIn(): Promise<number> {
  const xs = Array.from({ length: 4 * 12 * 12 * 10 }, (_, i) => Math.sin(i * 0.37));
  const gs = Array.from({ length: 4 * 8 * 8 * 20 }, (_, i) => Math.cos(i * 0.11));
  const dW = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xs, [4, 12, 12, 10]);
      const dy = tf.tensor4d(gs, [4, 8, 8, 20]);
      return tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'valid'), dy)))(tf.zeros([5, 5, 10, 20])).dataSync() as Float32Array;
    });
  await tf.setBackend('cpu');
  const want = dW();
  await tf.setBackend('wasm');
  const got = dW();
  let worst = 0;
  want.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - got[i]!))));
  return worst;
}

const init = (shape: number[], fanIn: number) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
const oneHot = (n: number) => tf.oneHot(tf.randomUniform([n], 0, 10, 'int32') as tf.Tensor1D, 10);

function matmul(n: number, ta: boolean, tb: boolean): () => void {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  return () => tf.matMul(a, b, ta, tb).dispose();
}

function mlpStep(): () => void {
  const dims = [784, 256, 128, 10];
  const ws = dims.slice(1).map((d, i) => init([dims[i]!, d], dims[i]!));
  const bs = dims.slice(1).map((d, i) => init([d], dims[i]!));
  const x = tf.randomNormal([64, 784]);
  const y = oneHot(64);
  const opt = tf.train.sgd(0.01);
  const forward = () => {
    let h: tf.Tensor = x;
    for (let i = 0; i < 3; i++) h = tf.fused.matMul({ a: h, b: ws[i]!, bias: bs[i]!, activation: i < 2 ? 'relu' : 'linear' });
    return tf.losses.softmaxCrossEntropy(y, h) as tf.Scalar;
  };
  return () => tf.tidy(() => void opt.minimize(forward));
}

function cnn(batch: number) {
  const k1 = init([5, 5, 1, 10], 25);
  const b1 = init([10], 25);
  const k2 = init([5, 5, 10, 20], 250);
  const b2 = init([20], 250);
  const w3 = init([320, 100], 320);
  const b3 = init([100], 320);
  const w4 = init([100, 10], 100);
  const b4 = init([10], 100);
  const x = tf.randomNormal([batch, 28, 28, 1]) as tf.Tensor4D;
  const forward = (training: boolean) => {
    let h = tf.fused.conv2d({ x, filter: k1 as tf.Tensor4D, strides: 1, pad: 'valid', bias: b1, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h, filter: k2 as tf.Tensor4D, strides: 1, pad: 'valid', bias: b2, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    let f: tf.Tensor2D = tf.reshape(h, [batch, 320]);
    if (training) f = tf.dropout(f, 0.25) as tf.Tensor2D;
    f = tf.fused.matMul({ a: f, b: w3 as tf.Tensor2D, bias: b3, activation: 'relu' }) as tf.Tensor2D;
    return tf.fused.matMul({ a: f, b: w4 as tf.Tensor2D, bias: b4 });
  };
  return { forward };
}

function cnnStep(): () => void {
  const { forward } = cnn(64);
  const y = oneHot(64);
  const opt = tf.train.sgd(0.01);
  return () => tf.tidy(() => void opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(true)) as tf.Scalar));
}

function cnnInfer(batch: number): () => void {
  const { forward } = cnn(batch);
  return () => tf.tidy(() => void forward(false));
}

const make: Record<string, () => () => void> = {
  mm512_ab: () => matmul(512, false, false),
  mm256_atb: () => matmul(256, true, false),
  mm256_abt: () => matmul(256, false, true),
  mm1024_atb: () => matmul(1024, true, false),
  mm1024_abt: () => matmul(1024, false, true),
  mlp_train: mlpStep,
  cnn_train: cnnStep,
  cnn_infer64: () => cnnInfer(64),
  cnn_infer1: () => cnnInfer(1),
};

// Slow enough on tfjs-cpu (seconds per call) that fewer samples per round are taken.
const slowPlan = { ...plan, warmMs: 0, warmCalls: 1, budgetMs: 0, minSamples: backend === 'cpu' ? 1 : 2 };
const results: Record<string, number[]> = {};
for (const id of wanted) {
  const f = make[id];
  if (!f) continue;
  const fn = f();
  const slow = (backend === 'cpu' && (id === 'cnn_train' || id.startsWith('mm1024'))) || (backend === 'wasm' && id.startsWith('mm1024'));
  results[id] = measure(fn, slow ? slowPlan : plan);
}
const leaked = tf.memory().numTensors;
notes.push(`tfjs-core ${tf.version_core}, backend ${tf.getBackend()}; live tensors at exit: ${leaked}`);
report({ lib: `tfjs-${backend}`, notes, results });
