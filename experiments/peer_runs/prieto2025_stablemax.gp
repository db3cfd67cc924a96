# prieto2025_stablemax.gp: grok beside PyTorch in Prieto et al. 2025's own
# StableMax setting (experiments/prieto2025_stablemax.cfg: a + b mod 113,
# 40% of the pairs, the one-hot pair into a bias-free 200-200 ReLU MLP,
# float64 StableMax cross-entropy, AdamW lr 0.01, eps 1e-25, no weight
# decay, full batch, 80,000 epochs).  Five runs, each a TSV of this folder
# with the command that made it in its header: PyTorch from grok's seed-0
# start (same weights, same split) beside grok's seed 0 (its milestones),
# grok from PyTorch's own seed-42 draw (the paper's seed) beside PyTorch's,
# and grok's seed 2.  Panel (a): test accuracy; panel (b): the
# training loss.  Draw it from the repository root:
#
#   gnuplot experiments/peer_runs/prieto2025_stablemax.gp
#
# which writes docs/figures/repro_prieto2025_stablemax_torch.png (another
# file with gnuplot -e "out='FILE.png'" before the script's name).

dir = 'experiments/peer_runs/'
if (!exists('out')) out = 'docs/figures/repro_prieto2025_stablemax_torch.png'
width_in = 6.8; height_in = 2.35; font_pt = 8.0
png_ppi = 1600.0 / 3.4
set terminal pngcairo enhanced color size int(width_in * png_ppi + 0.5), \
    int(height_in * png_ppi + 0.5) font sprintf('DejaVu Sans,%g', font_pt * 3.25) \
    linewidth 3.5
set output out
set encoding utf8
set datafile separator "\t"
set datafile commentschars "#"
set border 3 lw 0.5
set tics nomirror out scale 0.5
set grid lc rgb '#E5E5E5' lw 0.5

# grok seed 0's curve is not kept, only its milestones (points)
array runs[5] = ['prieto2025_grok_seed0_skx.tsv', 'prieto2025_torch_grokstart.tsv', \
                 'prieto2025_grok_torchstart.tsv', 'prieto2025_torch_seed42.tsv', \
                 'prieto2025_grok_seed2.tsv']
array titles[5] = ["grok, seed 0 (milestones)", "PyTorch from grok's seed-0 start", \
                   "grok from PyTorch's seed-42 start", "PyTorch, seed 42 (the paper's)", \
                   'grok, seed 2']
array colours[5] = ['#0072B2', '#0072B2', '#009E73', '#009E73', '#D55E00']
array dashes[5] = [1, 2, 1, 2, 1]

set multiplot layout 1, 2 margins 0.07, 0.99, 0.17, 0.93 spacing 0.08, 0
set key off
set xlabel 'epoch (full-batch step)'
set xrange [0:80000]
set xtics 20000 format '%.0s%c'
set ylabel 'test accuracy (%)'
set yrange [0:100]
set label 1 '(a)' at graph -0.12, graph 1.05 left
plot dir.runs[1] using 1:(100 * column('test_acc')) with points pt 7 ps 2.2 lc rgb colours[1] \
    notitle, \
  for [i=2:5] dir.runs[i] using 1:(100 * column('test_acc')) with lines \
    lc rgb colours[i] dt dashes[i] lw 1 notitle
unset label 1
set key top right reverse Left samplen 2.5 spacing 1.1
set ylabel 'training loss (nats)'
set logscale y
set yrange [1e-16:10]
set format y '10^{%L}'
set ytics 1e-16, 1e4, 10
set label 2 '(b)' at graph -0.12, graph 1.05 left
plot NaN with points pt 7 ps 2.2 lc rgb colours[1] title titles[1], \
  for [i=2:5] dir.runs[i] using 1:(column('train_loss') > 0 ? column('train_loss') : NaN) \
    with lines lc rgb colours[i] dt dashes[i] lw 1 title titles[i]
unset multiplot
