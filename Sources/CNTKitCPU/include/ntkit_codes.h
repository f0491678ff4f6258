#ifndef NTKIT_CODES_H
#define NTKIT_CODES_H

/// The one table of NTKit's small integer codes, shared by every backend:
/// Swift (`DistanceMetric.code`, `Activation.code`) reads these macros,
/// the C kernels (CFastMLP) use them, and every OpenCL program gets them as
/// `#define`s written from these macros (CLCodeTable), for
/// Kernels/cl/pool_distance.cl and Kernels/cl/activation.cl.

/// Row distances D(a, b) of RND and k-center (`DistanceMetric`).
#define NTK_METRIC_MSE 0
#define NTK_METRIC_L1 1
#define NTK_METRIC_L2 2
#define NTK_METRIC_LP 3
#define NTK_METRIC_COSINE 4
#define NTK_METRIC_ANGULAR 5

/// Element-wise activations (`Activation`).
#define NTK_ACT_IDENTITY 0
#define NTK_ACT_RELU 1
#define NTK_ACT_TANH 2
#define NTK_ACT_SIGMOID 3
#define NTK_ACT_GELU 4
#define NTK_ACT_SOFTPLUS 5
#define NTK_ACT_SILU 6
#define NTK_ACT_LEAKY_RELU 7

#endif
