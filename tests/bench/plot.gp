# scripts/bench: the picture of a run, for a person to look at.
#   gnuplot -e "datadir='...'; out='latency.png'; series='list current ...';
#               title_text='...'" tests/bench/plot.gp
# Left: latency by percentile, one line per scenario and ceiling (from
# $datadir/curve-<name>.dat: percentile, ms, 100/(100-percentile)); the x
# axis spreads the tail (50%, 90%, 99%, 99.9%, ...). Right: list latency as
# sessions per user and rows in the table grow ($datadir/growth.dat).

set terminal pngcairo size 1500,650 font "DejaVu Sans,10"
set output out
set multiplot layout 1,2 title title_text

set title "Latency by percentile (wrk through nginx; pgbench straight to PostgreSQL)"
set logscale x
set logscale y
set xrange [1.5:200000]
set xtics ("50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set xlabel "percentile"
set ylabel "latency (ms)"
set grid xtics ytics mytics
set key top left
# One colour per series (more than the default eight); ceilings dashed.
set linetype 9 lc rgb "#8b4513"
set linetype 10 lc rgb "#708090"
set linetype 11 lc rgb "#ff1493"
set linetype 12 lc rgb "#2f4f4f"
plot for [i = 1:words(series)] datadir.'/curve-'.word(series, i).'.dat' \
	using 3:2 with linespoints pointsize 0.5 linetype i \
	dashtype 1 + (strstrt(word(series, i), "pgbench") > 0 || word(series, i) eq "nginx") \
	title word(series, i)

unset logscale x
set logscale y
set xtics autofreq norotate
set autoscale x
set title "List latency as data grows"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set boxwidth 0.9
set xtics nomirror
set xlabel ""
set ylabel "latency (ms)"
set key top left
plot datadir.'/growth.dat' using 2:xtic(1) title "p50", \
	'' using 3 title "p99"
unset multiplot
