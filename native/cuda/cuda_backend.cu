// cuda_backend.cu: the CUDA backend behind a C ABI. Uses the runtime API only, so the binary
// starts on machines without a driver and reports the GPU as unavailable (TOOLCHAIN.md C4).
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" {
#include "ulm_native.h"
}

// One thread per row: out[i] = dot(rows[i], query).
__global__ static void score_rows_kernel(const float *rows, size_t n_rows, size_t dim, const float *query, float *out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_rows) return;
    const float *r = rows + i * dim;
    float acc = 0.0f;
    for (size_t j = 0; j < dim; j++) acc += r[j] * query[j];
    out[i] = acc;
}

extern "C" bool ulm_cuda_describe(char *buf, size_t cap) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(buf, cap, "built, no device (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return false;
    }
    cudaDeviceProp p;
    cudaGetDeviceProperties(&p, 0);
    snprintf(buf, cap, "%s, %d SMs, %.0f GiB", p.name, p.multiProcessorCount, p.totalGlobalMem / 1073741824.0);
    return true;
}

extern "C" ulm_status ulm_cuda_score_rows(const float *rows, size_t n_rows, size_t dim, const float *query, float *out) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) return ULM_ERR_UNSUPPORTED;
    float *d_rows = NULL, *d_q = NULL, *d_out = NULL;
    ulm_status s = ULM_ERR_NOMEM;
    if (cudaMalloc(&d_rows, n_rows * dim * sizeof(float)) != cudaSuccess) goto done;
    if (cudaMalloc(&d_q, dim * sizeof(float)) != cudaSuccess) goto done;
    if (cudaMalloc(&d_out, n_rows * sizeof(float)) != cudaSuccess) goto done;
    s = ULM_ERR_IO;
    if (cudaMemcpy(d_rows, rows, n_rows * dim * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) goto done;
    if (cudaMemcpy(d_q, query, dim * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) goto done;
    score_rows_kernel<<<(unsigned)((n_rows + 255) / 256), 256>>>(d_rows, n_rows, dim, d_q, d_out);
    if (cudaMemcpy(out, d_out, n_rows * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess) goto done;
    s = ULM_OK;
done:
    cudaFree(d_rows);
    cudaFree(d_q);
    cudaFree(d_out);
    return s;
}
