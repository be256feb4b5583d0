// `npm run bench [-- --json]`: GEMM GFLOP/s of Tensor matmul per backend beside dnnl_sgemm called directly
// (the same code as `aiayn bench gemm`). Threads come from AIAYN_THREADS (default: all cores).
import { benchGemm, formatGemmTable } from '../src/bench/gemm.js';

const rows = benchGemm();
console.log(process.argv.includes('--json') ? JSON.stringify({ results: rows }) : formatGemmTable(rows));
