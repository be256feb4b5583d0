// The table of one instruction-set variant of the vectorised loops (see vmath.h). Included once per instruction
// set by vmath.cc (baseline), vmath_avx2.cc and vmath_avx512.cc, which define VMATH_TABLE and VMATH_NAME; the
// loops come from one header per kernel family, named after src/backend/ts/ (elementwise, reduce, gemm, nn,
// attention, decoder-step), all with internal linkage so the variants never mix at link time.
#include "simd/attention.h"
#include "simd/decoder_step.h"
#include "simd/elementwise.h"
#include "simd/gemm_packed.h"
#include "simd/gemm_small.h"
#include "simd/nn_adam.h"
#include "simd/nn_dropout.h"
#include "simd/nn_layernorm.h"
#include "simd/nn_loss.h"
#include "simd/nn_softmax.h"
#include "simd/reduce.h"
#include "simd/vmath.h"

namespace aiayn {

extern const VMath VMATH_TABLE;
const VMath VMATH_TABLE = {VMATH_NAME, kLanes, kOneRowKernel, kLanes, expLoop, sigmoidLoop, geluTanhLoop, geluTanhGradLoop, softmaxRowLoop, softmaxGradRowLoop, ceStatsLoop, rowMaxLoop, biasRowMaxLoop, scaleShiftLoop,
                           adamLoop, smallGemmNTLoop, packedGemmLoop, transposeLoop, layerNormRowsLoop,
                           layerNormBackwardRowsLoop, sumColumnsLoop, drawKeepWordsLoop, dropoutGradWordsLoop, attendRowLoop,
                           attentionScoresPairLoop, attentionBackwardPairLoop};

}  // namespace aiayn
