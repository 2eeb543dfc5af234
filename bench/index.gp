# Index assembly: median wall time per merge with the p10 to p90 range, one panel per registry kind and size.
# Usage: gnuplot -e "dir='build/bench'" bench/index.gp   writes dir/index.png
set terminal pngcairo size 1500,1100 font "DejaVu Sans,11" noenhanced
set output dir."/index.png"
set multiplot layout 3,3 title "Index assembly: median ms per merge (bars p10 to p90), lower is better"
set style fill solid 0.6 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
set xtics rotate by -30
unset key
do for [kind in "plain tls remote"] {
	do for [n in "2 4 8"] {
		set title sprintf("%s, %s platforms", kind eq "plain" ? "plain HTTP" : (kind eq "tls" ? "TLS + basic auth" : "plain HTTP, 20 ms away"), n)
		plot dir."/index-".kind."-".n.".dat" using 1:3:xtic(2) with boxes lc rgb "#4878a8", \
			'' using 1:3:4:5 with yerrorbars lc rgb "black" pt 0
	}
}
unset multiplot
