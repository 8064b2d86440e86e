// CPU kernels of the frontier bookkeeping: the entries of a few rows of a CSR and the
// distinct columns those rows reach. One pass over the selected rows, no sort: the
// work is proportional to the rows' entries, not to the matrix.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../common.h"

namespace graphbias {
namespace {

// Rows of `indptr` selected by `rows`, checked against the matrix's row count.
const int64_t* checked_rows(const at::Tensor& indptr, const at::Tensor& rows) {
  check_index(indptr, "indptr");
  check_index(rows, "rows");
  check_same_device(indptr, rows, "indptr", "rows");
  TORCH_CHECK(indptr.numel() >= 1, "graphbias: indptr must not be empty");
  const int64_t num_rows = indptr.numel() - 1;
  const int64_t* r = rows.data_ptr<int64_t>();
  for (int64_t i = 0; i < rows.numel(); ++i)
    TORCH_CHECK(r[i] >= 0 && r[i] < num_rows, "graphbias: rows[", i, "] = ", r[i],
                " is not a row of a matrix with ", num_rows, " rows");
  return r;
}

std::tuple<at::Tensor, at::Tensor> csr_rows_cpu(const at::Tensor& indptr,
                                                const at::Tensor& rows) {
  const auto ip = indptr.contiguous(), rs = rows.contiguous();
  const int64_t* r = checked_rows(ip, rs);
  const int64_t* p = ip.data_ptr<int64_t>();
  const int64_t count = rs.numel();
  auto out_ptr = at::empty({count + 1}, ip.options());
  int64_t* op = out_ptr.data_ptr<int64_t>();
  op[0] = 0;
  for (int64_t i = 0; i < count; ++i) op[i + 1] = op[i] + (p[r[i] + 1] - p[r[i]]);
  auto positions = at::empty({op[count]}, ip.options());
  int64_t* pos = positions.data_ptr<int64_t>();
  for (int64_t i = 0; i < count; ++i)
    for (int64_t e = p[r[i]], k = op[i]; e < p[r[i] + 1]; ++e, ++k) pos[k] = e;
  return {out_ptr, positions};
}

// Distinct columns of the selected rows (and the rows themselves when with_rows), in
// order of first occurrence. `mark` ([num_cols] bool, all false) is scratch: it is
// set while collecting and cleared again before returning.
at::Tensor reached_cpu(const at::Tensor& indptr, const at::Tensor& indices,
                       const at::Tensor& rows, bool with_rows, at::Tensor& mark) {
  const auto ip = indptr.contiguous(), ix = indices.contiguous(), rs = rows.contiguous();
  const int64_t* r = checked_rows(ip, rs);
  check_index(indices, "indices");
  TORCH_CHECK(mark.scalar_type() == at::kBool && mark.dim() == 1 && mark.is_contiguous(),
              "graphbias: mark must be a contiguous 1-D bool tensor");
  const int64_t* p = ip.data_ptr<int64_t>();
  const int64_t* c = ix.data_ptr<int64_t>();
  const int64_t n = mark.numel(), count = rs.numel();
  TORCH_CHECK(p[ip.numel() - 1] == ix.numel(), "graphbias: indptr ends at ",
              p[ip.numel() - 1], " but indices has ", ix.numel(), " entries");
  bool* m = mark.data_ptr<bool>();
  int64_t total = with_rows ? count : 0;
  for (int64_t i = 0; i < count; ++i) total += p[r[i] + 1] - p[r[i]];
  auto out = at::empty({total}, ip.options());
  int64_t* o = out.data_ptr<int64_t>();
  int64_t size = 0;
  auto take = [&](int64_t v) {
    if (v < 0 || v >= n) {
      for (int64_t k = 0; k < size; ++k) m[o[k]] = false;  // the scratch stays clean
      TORCH_CHECK(false, "graphbias: id ", v, " is outside mark's ", n, " entries");
    }
    if (!m[v]) { m[v] = true; o[size++] = v; }
  };
  if (with_rows)
    for (int64_t i = 0; i < count; ++i) take(r[i]);
  for (int64_t i = 0; i < count; ++i)
    for (int64_t e = p[r[i]]; e < p[r[i] + 1]; ++e) take(c[e]);
  for (int64_t k = 0; k < size; ++k) m[o[k]] = false;
  return out.narrow(0, 0, size);
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CPU, m) {
  m.impl("csr_rows", &csr_rows_cpu);
  m.impl("reached", &reached_cpu);
}

}  // namespace graphbias
