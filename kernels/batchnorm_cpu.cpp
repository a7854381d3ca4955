// CPU twin of the batch-normalization kernels. Statistics are two-pass in double, one channel
// per OpenMP thread (each channel's sums run in a fixed order: same bits for any thread count);
// the element-wise passes run over (n, c) planes.
#include <vector>

#include "batchnorm.h"

namespace cutrain::kernels {
namespace {

// The values of channel c are the n planes x[i*stride + c*S, +S) (stride = C*S when packed).
const float* plane(const float* x, const BnDims& d, int64_t i, int64_t c) {
  return x + i * d.xs() + c * d.s;
}

BnMoments channel_moments(const BnDims& d, const float* x, int64_t c) {
  double sum = 0.0;
  for (int64_t i = 0; i < d.n; ++i) {
    const float* p = plane(x, d, i, c);
    for (int64_t j = 0; j < d.s; ++j) sum += p[j];
  }
  BnMoments m;
  m.count = static_cast<double>(d.per_channel());
  m.mean = sum / m.count;
  for (int64_t i = 0; i < d.n; ++i) {
    const float* p = plane(x, d, i, c);
    for (int64_t j = 0; j < d.s; ++j) {
      const double dev = p[j] - m.mean;
      m.m2 += dev * dev;
    }
  }
  return m;
}

// y = bn(x) per plane with per-channel mean and inv_std.
void normalize(const BnDims& d, const BnConfig& cfg, const BnChannels& ch, const float* mean,
               const float* inv_std, const float* x, float* y) {
  const int64_t planes = d.n * d.c;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t i = p / d.c, c = p % d.c;
    const float m = mean[c], k = inv_std[c], g = ch.gamma[c], b = ch.beta[c];
    const float* xp = x + i * d.xs() + c * d.s;
    float* yp = y + i * d.ys() + c * d.s;
    for (int64_t j = 0; j < d.s; ++j) yp[j] = bn_forward_element(xp[j], m, k, g, b, cfg.relu);
  }
}

}  // namespace

void batchnorm_forward_train_cpu(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                 const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.c; ++c) {
    const BnChannelUpdate u = bn_finalize(channel_moments(d, x, c), cfg.eps, cfg.momentum,
                                          ch.running_mean[c], ch.running_var[c]);
    ch.save_mean[c] = u.mean;
    ch.save_inv_std[c] = u.inv_std;
    ch.running_mean[c] = u.running_mean;
    ch.running_var[c] = u.running_var;
  }
  normalize(d, cfg, ch, ch.save_mean, ch.save_inv_std, x, y);
}

void batchnorm_forward_infer_cpu(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                 const float* x, float* y) {
  std::vector<float> inv_std(static_cast<size_t>(d.c));
  for (int64_t c = 0; c < d.c; ++c) inv_std[c] = bn_inv_std(ch.running_var[c], cfg.eps);
  normalize(d, cfg, ch, ch.running_mean, inv_std.data(), x, y);
}

void batchnorm_backward_cpu(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                            const float* x, const float* y, const float* dy, float* dx) {
  const int64_t m = d.per_channel();
  std::vector<float> mean_dy(static_cast<size_t>(d.c)), mean_dy_xhat(static_cast<size_t>(d.c));
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.c; ++c) {
    const float mean = ch.save_mean[c], inv_std = ch.save_inv_std[c];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int64_t i = 0; i < d.n; ++i) {
      const float* xp = x + i * d.xs() + c * d.s;
      const float* yp = y + i * d.ys() + c * d.s;
      const float* dyp = dy + i * d.ys() + c * d.s;
      for (int64_t j = 0; j < d.s; ++j) {
        const float g = bn_masked_dy(dyp[j], cfg.relu ? yp[j] : 0.0f, cfg.relu);
        sum_dy += g;
        sum_dy_xhat += static_cast<double>(g) * bn_xhat(xp[j], mean, inv_std);
      }
    }
    ch.dbeta[c] = static_cast<float>(sum_dy);
    ch.dgamma[c] = static_cast<float>(sum_dy_xhat);
    mean_dy[c] = static_cast<float>(sum_dy / static_cast<double>(m));
    mean_dy_xhat[c] = static_cast<float>(sum_dy_xhat / static_cast<double>(m));
  }
  if (dx == nullptr) return;
  const int64_t planes = d.n * d.c;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t i = p / d.c, c = p % d.c;
    const float mean = ch.save_mean[c], inv_std = ch.save_inv_std[c];
    const float scale = ch.gamma[c] * inv_std, a = mean_dy[c], b = mean_dy_xhat[c];
    const float* xp = x + i * d.xs() + c * d.s;
    const float* yp = y + i * d.ys() + c * d.s;
    const float* dyp = dy + i * d.ys() + c * d.s;
    float* dxp = dx + i * d.xs() + c * d.s;
    for (int64_t j = 0; j < d.s; ++j) {
      const float g = bn_masked_dy(dyp[j], cfg.relu ? yp[j] : 0.0f, cfg.relu);
      const float v = bn_backward_element(g, bn_xhat(xp[j], mean, inv_std), scale, a, b);
      dxp[j] = cfg.accumulate_dx ? dxp[j] + v : v;
    }
  }
}

}  // namespace cutrain::kernels
