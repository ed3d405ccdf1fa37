// Loss-based sample reweighting in a TensorFlow.js training loop.
// Run: `npm run example:tfjs` in packages/strategies (pure-JS CPU backend, about half a minute).
//
// A small MLP learns a 3-class problem (three interleaved spirals), batches of 64. Each step:
//   1. per-sample cross-entropy with Reduction.NONE: a [B] tensor,
//   2. a detached copy of it (dataSync) goes to computeWeights: w[B], summing to 1, written into
//      a Float32Array (TF.js tensors take no Float64Array),
//   3. the model trains on sum_i w_i l_i (tf.sum(tf.mul(losses, w))), so the weights are
//      constants for the gradient, as in the paper.
// For comparison the same model, from the same initial weights, also trains on the plain mean.

import { computeWeights, weightStats } from '@lrw/strategies';
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');

// Deterministic data: 3 spirals of 400 points each. `--label-noise 0.05` relabels that fraction
// of the points at random (default 0).
const noiseFlag = process.argv.indexOf('--label-noise');
const labelNoise = noiseFlag > 0 ? Number(process.argv[noiseFlag + 1]) : 0;
let seed = 7;
const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const N = 1200;
const points = new Float32Array(N * 2);
const labels = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const cls = i % 3;
  const t = (Math.floor(i / 3) / (N / 3)) * 3 + 0.2;
  const angle = t + (2 * Math.PI * cls) / 3 + 0.25 * (random() - 0.5);
  points[2 * i] = (t / 3.2) * Math.cos(angle);
  points[2 * i + 1] = (t / 3.2) * Math.sin(angle);
  labels[i] = random() < labelNoise ? Math.floor(random() * 3) : cls;
}
const xAll = tf.tensor2d(points, [N, 2]);
const yAll = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat());

function makeModel() {
  const init = (s) => tf.initializers.glorotUniform({ seed: s });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [2],
        units: 64,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 3, kernelInitializer: init(3) }),
    ],
  });
}

/** Mean cross-entropy and accuracy over the whole training set. */
function evaluate(model) {
  return tf.tidy(() => {
    const logits = model.predict(xAll);
    const loss = tf.losses.softmaxCrossEntropy(yAll, logits).dataSync()[0];
    const correct = tf.equal(tf.argMax(logits, 1), tf.argMax(yAll, 1)).sum().dataSync()[0];
    return { loss, accuracy: correct / N };
  });
}

const B = 64;
const STEPS = 450;
const order = Array.from({ length: N }, (_, i) => i);

function train(label, strategy, r) {
  const model = makeModel();
  const w = new Float32Array(B); // the weights of each step, reused
  const optimizer = tf.train.adam(0.01);
  const start = evaluate(model);
  console.log(
    `${label}: step 0  train loss ${start.loss.toFixed(4)}  accuracy ${start.accuracy.toFixed(3)}`,
  );
  let capBreaks = 0;
  for (let step = 1; step <= STEPS; step++) {
    // A deterministic shuffled batch.
    for (let k = 0; k < B; k++) {
      const j = k + Math.floor(random() * (N - k));
      [order[k], order[j]] = [order[j], order[k]];
    }
    const idx = tf.tensor1d(order.slice(0, B), 'int32');
    const x = tf.gather(xAll, idx);
    const y = tf.gather(yAll, idx);
    let stats;
    const loss = optimizer.minimize(() => {
      const logits = model.apply(x);
      // [B]: one loss per sample.
      const perSample = tf.losses.softmaxCrossEntropy(y, logits, undefined, 0, tf.Reduction.NONE);
      const losses = perSample.dataSync(); // detached copy: B floats
      computeWeights(losses, { strategy, r, out: w });
      stats = weightStats(w, losses);
      return tf.sum(tf.mul(perSample, tf.tensor1d(w)));
    }, true);
    if (!stats.capHolds) capBreaks++;
    loss.dispose();
    tf.dispose([idx, x, y]);
    if (step % 150 === 0) {
      const e = evaluate(model);
      console.log(
        `${label}: step ${step}  train loss ${e.loss.toFixed(4)}  accuracy ${e.accuracy.toFixed(3)}` +
          `  batch n*max w ${stats.maxWeightTimesN.toFixed(2)}  ESS ${stats.effectiveSampleSize.toFixed(1)}/${B}`,
      );
    }
  }
  console.log(`${label}: ${capBreaks} of ${STEPS} steps broke the 2/n cap`);
  model.dispose();
  optimizer.dispose();
}

const t0 = Date.now();
train('linupper r=0.4', 'linupper', 0.4);
train('uniform       ', 'uniform', 1);
console.log(`tensors alive at the end: ${tf.memory().numTensors} (the two data tensors)`);
console.log(`took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
