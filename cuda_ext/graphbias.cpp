// Front end of the graphbias kernels: op schemas in the `graphbias` namespace.
// Kernels register per dispatch key in cpu/, cuda/ and autograd/.
//
// Conventions (all ops):
//   * CSR rows are receivers: row i reduces entries indptr[i] .. indptr[i+1].
//   * `reduce` is one of "sum", "mean", "max", "min"; empty rows give 0.
//   * max / min propagate NaN (as torch.amax / amin): the first NaN of a row wins,
//     else the first entry reaching the extremum.
//   * `arg` (max / min only) holds, per output element, the position of the winning
//     entry (the CSR entry index e for spmm, the src row for segment_csr); empty
//     rows hold the number of entries (one past the end). The backward sends the
//     gradient of each output element to its winner alone.
//   * `value` is optional: none means all ones; shape [nnz] scales whole rows of x,
//     shape [nnz, H] scales head h of x viewed as [N, H, F / H].
// Arguments are checked in the Python front end (graphbias.ops) and again, cheaply,
// in each kernel entry point, so no kernel reads out of bounds.
#include <Python.h>
#include <torch/library.h>

TORCH_LIBRARY(graphbias, m) {
  // segment reduction over CSR segments of dim 0
  m.def("segment_csr(Tensor src, Tensor indptr, str reduce) -> Tensor");
  m.def("_segment_csr_fw(Tensor src, Tensor indptr, str reduce) -> (Tensor, Tensor)");
  m.def("_gather_csr(Tensor src, Tensor indptr, int size) -> Tensor");
  m.def("_segment_arg_bw(Tensor grad_out, Tensor arg, int size) -> Tensor");
  // fused gather + reduce (sparse x dense), with its backward pieces
  m.def("spmm(Tensor indptr, Tensor indices, Tensor? value, Tensor x, str reduce, "
        "Tensor? indptr_t, Tensor? indices_t, Tensor? pos_t) -> Tensor");
  m.def("_spmm_fw(Tensor indptr, Tensor indices, Tensor? value, Tensor x, str reduce) "
        "-> (Tensor, Tensor)");
  m.def("_spmm_value_bw(Tensor indptr, Tensor indices, Tensor x, Tensor grad_out, "
        "Tensor? arg, str reduce, int heads) -> Tensor");
  // sum over a CSR of S bit-masked copies of x (CPU, forward only): out [S, R, F] with
  // out[s, i] = scale * sum_e value[e] * (x[col(e)] masked by words[s, col(e)]), bit
  // f % 64 of words[s, j, f / 64] keeping x[j, f]
  m.def("masked_spmm(Tensor indptr, Tensor indices, Tensor? value, Tensor x, Tensor words, "
        "float scale) -> Tensor");
  // max / min backward for x; CPU reads `indices`, CUDA the transpose
  m.def("_spmm_arg_bw(Tensor indptr_t, Tensor indices_t, Tensor pos_t, Tensor indices, "
        "Tensor? value, Tensor arg, Tensor grad_out) -> Tensor");
  // frontier bookkeeping (CPU; other devices use the torch path of graphbias.ops):
  // the entries of the selected rows, and the distinct columns they reach
  m.def("csr_rows(Tensor indptr, Tensor rows) -> (Tensor, Tensor)");
  m.def("reached(Tensor indptr, Tensor indices, Tensor rows, bool with_rows, "
        "Tensor(a!) mark) -> Tensor");
  // the ReLU select of the compiled networks, (b + relu(a - b + off)) - relu(b - a + off)
  // with off = margin (g - 1), in one pass (CPU; the torch expression elsewhere)
  m.def("relu_select(Tensor g, Tensor a, Tensor b, float margin) -> Tensor");
  // CUDA only: atomic COO scatter (non-deterministic order of floating-point adds)
  m.def("_scatter_coo_atomic(Tensor src, Tensor index, int dim_size, str reduce) -> Tensor");
}

// An importable Python module, so `import graphbias._C` loads the library above.
static struct PyModuleDef graphbias_module = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1,
                                              nullptr};
PyMODINIT_FUNC PyInit__C(void) { return PyModule_Create(&graphbias_module); }
