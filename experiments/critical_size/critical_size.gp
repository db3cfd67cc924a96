# critical_size.gp: Varma et al. 2023's critical dataset size approached from
# both sides (the README's semi-grokking rows).  Panel (a): ungrokking at
# a + b mod 53, a model grokked on 50% of the pairs trained on a new, smaller
# set (5%, 10%, 20%; three seeds each).  Panel (b): the same at p = 113
# (2.5% to 10%, one seed).  Panel (c): from scratch at p = 113, 17.5% to 25%.
# The data are this folder's TSVs, each with the commands that made its runs
# in its header.  Draw it from the repository root:
#
#   gnuplot experiments/critical_size/critical_size.gp
#
# which writes docs/figures/repro_varma2023_critical_size.png (another file
# with gnuplot -e "out='FILE.png'" before the script's name).

dir = 'experiments/critical_size/'
if (!exists('out')) out = 'docs/figures/repro_varma2023_critical_size.png'
width_in = 6.8; height_in = 2.3; font_pt = 8.0
png_ppi = 1600.0 / 3.4
set terminal pngcairo enhanced color size int(width_in * png_ppi + 0.5), \
    int(height_in * png_ppi + 0.5) font sprintf('DejaVu Sans,%g', font_pt * 3.25) \
    linewidth 3.5
set output out
set encoding utf8
set datafile separator "\t"
set datafile commentschars "#"
set datafile missing "NaN"
set border 3 lw 0.5
set tics nomirror out scale 0.5
set grid lc rgb '#E5E5E5' lw 0.5
set yrange [0:100]
set xtics format '%.0s%c'
array colours[4] = ['#D55E00', '#E69F00', '#009E73', '#0072B2']

set multiplot layout 1, 3 margins 0.06, 0.99, 0.18, 0.90 spacing 0.05, 0
set xlabel 'epoch'
set ylabel 'test accuracy (%)'
set key bottom right Left reverse samplen 1.5 spacing 0.9 width -2

set title 'ungrokking, p = 53' offset 0, -0.6
set label 1 '(a)' at graph -0.16, graph 1.08 left
set xrange [0:20000]
set xtics 5000
# nine runs: three fractions x three seeds; one legend entry per fraction
plot for [j=0:2] for [s=0:2] dir.'ungrok_p53.tsv' using 1:(100 * column(2 + 3 * j + s)) \
    with lines lc rgb colours[j + 1] lw 0.8 \
    title (s == 0 ? word('5% 10% 20%', j + 1) : '')

set title 'ungrokking, p = 113'
set label 1 '(b)'
set ylabel ''
set xrange [0:80000]
set xtics 20000
plot for [j=1:4] dir.'ungrok_p113.tsv' using 1:(100 * column(j + 1)) \
    with lines lc rgb colours[j] lw 0.8 title columnheader(j + 1)

set title 'from scratch, p = 113'
set label 1 '(c)'
set key top left
set xrange [0:40000]
set xtics 10000
plot for [j=1:4] dir.'scratch_p113.tsv' using 1:(100 * column(j + 1)) \
    with lines lc rgb colours[j] lw 0.8 title columnheader(j + 1)
unset multiplot
