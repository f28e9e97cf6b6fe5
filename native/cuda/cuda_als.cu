// cuda_als.cu: implicit ALS (Hu, Koren & Volinsky 2008) with warm-started conjugate gradient
// (Takacs, Pilaszy & Tikk 2011) on the GPU, the same sweeps as core/src/train/recs_als.c.
// Runtime API only: on a machine without a driver or device every call returns
// ULM_ERR_UNSUPPORTED and the caller trains on the CPU.
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" {
#include "ulm_cuda_als.h"
}

namespace {

const int kMaxFactors = 256;

// Block-wide sum of v (blockDim.x threads, a multiple of 32, at most kMaxFactors).
__device__ float block_sum(float v, float *shared) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float s = 0;
    if (threadIdx.x == 0)
        for (int w = 0; w < (int)(blockDim.x + 31) / 32; w++) s += shared[w];
    __syncthreads();
    if (threadIdx.x == 0) shared[0] = s;
    __syncthreads();
    float r = shared[0];
    __syncthreads();
    return r;
}

// gram[i][j] = sum_r y[r][i] y[r][j] (+ reg on the diagonal): one thread per (i, j), rows streamed.
__global__ void gram_kernel(const float *y, size_t n, int f, float reg, float *gram) {
    int i = blockIdx.y, j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= f) return;
    float s = 0;
    for (size_t r = 0; r < n; r++) s += y[r * f + i] * y[r * f + j];
    gram[i * f + j] = s + (i == j ? reg : 0.0f);
}

// One block per row u (threadIdx.x = factor l, blockDim.x = f rounded up to 32): a few CG steps on
// (G + sum (c-1) y y^T) x = sum c y, warm-started from x.
__global__ void cg_kernel(const size_t *indptr, const uint32_t *indices, const float *data, const float *y,
                          const float *gram, int f, float alpha, int steps, float *xs, uint32_t n_rows) {
    __shared__ float sh_x[kMaxFactors], sh_p[kMaxFactors], red[32];
    uint32_t u = blockIdx.x;
    if (u >= n_rows) return;
    int l = threadIdx.x;
    bool on = l < f;
    float *x = xs + (size_t)u * f;
    size_t a = indptr[u], b = indptr[u + 1];
    if (a == b) {
        if (on) x[l] = 0;
        return;
    }
    float xl = on ? x[l] : 0;
    if (on) sh_x[l] = xl;
    __syncthreads();
    // r = b - A x
    float r = 0;
    if (on)
        for (int j = 0; j < f; j++) r -= gram[j * f + l] * sh_x[j];
    for (size_t k = a; k < b; k++) {
        const float *yi = y + (size_t)indices[k] * f;
        float c = 1.0f + alpha * data[k];
        float d = block_sum(on ? yi[l] * xl : 0.0f, red);
        if (on) r += (c - (c - 1.0f) * d) * yi[l];
    }
    float p = r;
    float rs_old = block_sum(r * r, red);
    if (rs_old < 1e-20f) return;
    for (int it = 0; it < steps; it++) {
        if (on) sh_p[l] = p;
        __syncthreads();
        float ap = 0;
        if (on)
            for (int j = 0; j < f; j++) ap += gram[j * f + l] * sh_p[j];
        for (size_t k = a; k < b; k++) {
            const float *yi = y + (size_t)indices[k] * f;
            float d = block_sum(on ? yi[l] * p : 0.0f, red);
            if (on) ap += alpha * data[k] * d * yi[l];
        }
        float pap = block_sum(p * ap, red);
        if (!(pap > 0)) break;
        float step = rs_old / pap;
        xl += step * p;
        r -= step * ap;
        float rs_new = block_sum(r * r, red);
        if (rs_new < 1e-20f) break;
        p = r + (rs_new / rs_old) * p;
        rs_old = rs_new;
    }
    if (on) x[l] = xl;
}

struct dev_csr {
    size_t *indptr = nullptr;
    uint32_t *indices = nullptr;
    float *data = nullptr;
};

bool upload(const size_t *ip, const uint32_t *ix, const float *dt, uint32_t rows, size_t nnz, dev_csr *d) {
    return cudaMalloc(&d->indptr, (rows + 1) * sizeof(size_t)) == cudaSuccess &&
           cudaMalloc(&d->indices, (nnz + 1) * sizeof(uint32_t)) == cudaSuccess &&
           cudaMalloc(&d->data, (nnz + 1) * sizeof(float)) == cudaSuccess &&
           cudaMemcpy(d->indptr, ip, (rows + 1) * sizeof(size_t), cudaMemcpyHostToDevice) == cudaSuccess &&
           cudaMemcpy(d->indices, ix, nnz * sizeof(uint32_t), cudaMemcpyHostToDevice) == cudaSuccess &&
           cudaMemcpy(d->data, dt, nnz * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess;
}

void release(dev_csr *d) {
    cudaFree(d->indptr);
    cudaFree(d->indices);
    cudaFree(d->data);
}

ulm_status fail(char *msg, size_t cap, ulm_status s, const char *what, cudaError_t e) {
    if (msg && cap) snprintf(msg, cap, "%s: %s", what, cudaGetErrorString(e));
    return s;
}

}  // namespace

extern "C" ulm_status ulm_cuda_als_train(const ulm_imatrix *x, uint32_t factors, uint32_t iters, float reg, float alpha,
                                         uint32_t cg_steps, float *user_f, float *item_f, char *msg, size_t cap) {
    if (msg && cap) msg[0] = 0;
    if (!x || !user_f || !item_f || factors == 0 || factors > (uint32_t)kMaxFactors || cg_steps == 0) {
        if (msg && cap) snprintf(msg, cap, "factors must be 1..%d and cg_steps >= 1", kMaxFactors);
        return ULM_ERR_RANGE;
    }
    int n_dev = 0;
    cudaError_t e = cudaGetDeviceCount(&n_dev);
    if (e != cudaSuccess || n_dev == 0)
        return fail(msg, cap, ULM_ERR_UNSUPPORTED, "no CUDA device", e != cudaSuccess ? e : cudaErrorNoDevice);
    int f = (int)factors;
    size_t nu = x->n_users, ni = x->n_items;
    dev_csr rows, cols;
    float *du = nullptr, *di = nullptr, *dg = nullptr;
    ulm_status s = ULM_ERR_NOMEM;
    if (!upload(x->indptr, x->indices, x->data, x->n_users, x->nnz, &rows) ||
        !upload(x->t_indptr, x->t_indices, x->t_data, x->n_items, x->nnz, &cols) ||
        cudaMalloc(&du, (nu * f + 1) * sizeof(float)) != cudaSuccess ||
        cudaMalloc(&di, (ni * f + 1) * sizeof(float)) != cudaSuccess ||
        cudaMalloc(&dg, (size_t)f * f * sizeof(float)) != cudaSuccess) {
        s = fail(msg, cap, ULM_ERR_NOMEM, "device memory", cudaGetLastError());
        goto done;
    }
    if (cudaMemcpy(du, user_f, nu * f * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess ||
        cudaMemcpy(di, item_f, ni * f * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) {
        s = fail(msg, cap, ULM_ERR_IO, "copy to device", cudaGetLastError());
        goto done;
    }
    {
        int threads = (f + 31) / 32 * 32;
        dim3 gg((unsigned)((f + 63) / 64), (unsigned)f);
        for (uint32_t it = 0; it < iters; it++) {
            gram_kernel<<<gg, 64>>>(di, ni, f, reg, dg);
            if (nu) cg_kernel<<<(unsigned)nu, threads>>>(rows.indptr, rows.indices, rows.data, di, dg, f, alpha,
                                                         (int)cg_steps, du, (uint32_t)nu);
            gram_kernel<<<gg, 64>>>(du, nu, f, reg, dg);
            if (ni) cg_kernel<<<(unsigned)ni, threads>>>(cols.indptr, cols.indices, cols.data, du, dg, f, alpha,
                                                         (int)cg_steps, di, (uint32_t)ni);
        }
        e = cudaDeviceSynchronize();
        if (e != cudaSuccess) {
            s = fail(msg, cap, ULM_ERR_IO, "kernel", e);
            goto done;
        }
    }
    if (cudaMemcpy(user_f, du, nu * f * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess ||
        cudaMemcpy(item_f, di, ni * f * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess) {
        s = fail(msg, cap, ULM_ERR_IO, "copy from device", cudaGetLastError());
        goto done;
    }
    s = ULM_OK;
done:
    release(&rows);
    release(&cols);
    cudaFree(du);
    cudaFree(di);
    cudaFree(dg);
    return s;
}
