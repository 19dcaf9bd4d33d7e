package dev.attune.examples.report;

import dev.attune.core.train.MetricsHistory;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.OutputStream;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnitSource;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.ViewBox;

/**
 * The report's charts, drawn with JFreeChart and written as SVG (for the page) or PNG (for papers and slides). Runs
 * keep one colour across every chart; training curves are solid lines, validation curves dashed with dots.
 */
final class Charts {

    static {
        // charts are drawn off-screen; a server without a display must not try to open one
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        // rotated labels (the y axis title) as rotated text, not as glyph outlines: the SVG stays text a browser
        // renders crisply and a reader can select and search; the workaround was for old JDKs' rotated text
        org.jfree.chart.text.TextUtils.setUseDrawRotatedStringWorkaround(false);
    }

    /** Tableau 10: distinct, colour-blind-aware, readable on white. */
    static final Color[] PALETTE = {
            new Color(0x4e79a7), new Color(0xf28e2b), new Color(0xe15759), new Color(0x76b7b2), new Color(0x59a14f),
            new Color(0xedc948), new Color(0xb07aa1), new Color(0xff9da7), new Color(0x9c755f), new Color(0xbab0ac)};

    /** Most points drawn per series; longer series are averaged in buckets (a chart is not wider than this). */
    static final int MAX_POINTS = 1000;

    static final int WIDTH = 640;
    static final int HEIGHT = 360;

    private static final String FONT = "SansSerif";
    private static final Color GRID = new Color(0xe3e3e3);
    private static final Color TEXT = new Color(0x333333);
    private static final Stroke LINE = new BasicStroke(1.8f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    private static final Stroke DASHED = new BasicStroke(1.8f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f,
            new float[] {6f, 4f}, 0f);
    private static final Shape DOT = new Ellipse2D.Double(-3.5, -3.5, 7, 7);

    private Charts() {
    }

    static Color colour(int run) {
        return PALETTE[run % PALETTE.length];
    }

    /** The charts of training curves, by file-name stem, in page order. */
    enum Curve {
        LOSS_BY_STEP("loss-by-step", "Loss by step", "step", "loss (nats per token)", true),
        LOSS_BY_TOKENS("loss-by-tokens", "Loss by tokens seen", "tokens seen", "loss (nats per token)", true),
        LEARNING_RATE("learning-rate", "Learning rate", "step", "learning rate", false),
        GRADIENT_NORM("gradient-norm", "Gradient norm (before clipping)", "step", "global L2 norm", false),
        THROUGHPUT("throughput", "Throughput", "step", "tokens per second", false);

        final String file;
        final String title;
        final String xLabel;
        final String yLabel;
        final boolean validation;

        Curve(String file, String title, String xLabel, String yLabel, boolean validation) {
            this.file = file;
            this.title = title;
            this.xLabel = xLabel;
            this.yLabel = yLabel;
            this.validation = validation;
        }
    }

    static JFreeChart curve(Curve curve, List<RunData> runs) {
        boolean byTokens = curve == Curve.LOSS_BY_TOKENS;
        ToDoubleFunction<MetricsHistory.Step> x = byTokens ? s -> s.tokensSeen() : s -> s.step();
        ToDoubleFunction<MetricsHistory.Step> y = switch (curve) {
            case LOSS_BY_STEP, LOSS_BY_TOKENS -> MetricsHistory.Step::loss;
            case LEARNING_RATE -> MetricsHistory.Step::learningRate;
            case GRADIENT_NORM -> MetricsHistory.Step::gradientNorm;
            case THROUGHPUT -> MetricsHistory.Step::tokensPerSecond;
        };
        XYSeriesCollection training = new XYSeriesCollection();
        XYSeriesCollection validation = new XYSeriesCollection();
        XYLineAndShapeRenderer trainingLines = new XYLineAndShapeRenderer(true, false);
        XYLineAndShapeRenderer validationLines = new XYLineAndShapeRenderer(true, true);
        trainingLines.setDrawSeriesLineAsPath(true); // one SVG path per series, not one element per segment
        for (int r = 0; r < runs.size(); r++) {
            RunData run = runs.get(r);
            training.addSeries(downsample(run.label() + " training", run.metrics().steps(), x, y));
            trainingLines.setSeriesPaint(r, colour(r));
            trainingLines.setSeriesStroke(r, LINE);
            if (curve.validation) {
                XYSeries v = new XYSeries(run.label() + " validation", false, true);
                for (MetricsHistory.Evaluation e : run.metrics().evaluations()) {
                    if (Double.isFinite(e.loss())) {
                        v.add(byTokens ? e.tokensSeen() : e.step(), e.loss());
                    }
                }
                validation.addSeries(v);
                validationLines.setSeriesPaint(r, colour(r));
                validationLines.setSeriesStroke(r, DASHED);
                validationLines.setSeriesShape(r, DOT);
            }
        }
        NumberAxis xAxis = axis(curve.xLabel);
        xAxis.setStandardTickUnits(byTokens ? new NumberTickUnitSource(false, new Compact())
                : NumberAxis.createIntegerTickUnits());
        NumberAxis yAxis = axis(curve.yLabel);
        yAxis.setAutoRangeIncludesZero(curve == Curve.LEARNING_RATE || curve == Curve.THROUGHPUT);
        if (curve == Curve.LEARNING_RATE) {
            yAxis.setNumberFormatOverride(new Compact(RunData::number)); // 2e-4, as in the configuration table
        } else if (curve == Curve.THROUGHPUT) {
            yAxis.setStandardTickUnits(new NumberTickUnitSource(false, new Compact()));
        }
        XYPlot plot = new XYPlot(training, xAxis, yAxis, trainingLines);
        if (curve.validation) {
            plot.setDataset(1, validation);
            plot.setRenderer(1, validationLines);
        }
        style(plot);
        plot.setNoDataMessage("no steps recorded yet");
        JFreeChart chart = new JFreeChart(curve.title, new Font(FONT, Font.BOLD, 15), plot, false);
        chart.getTitle().setPaint(TEXT);
        chart.getTitle().setPadding(new RectangleInsets(4, 0, 2, 0));
        chart.setBackgroundPaint(Color.WHITE);
        chart.addLegend(legend(runs, curve.validation));
        return chart;
    }

    /** One entry per run in its colour, then the two line styles when validation is drawn. */
    private static LegendTitle legend(List<RunData> runs, boolean withValidation) {
        LegendItemCollection items = new LegendItemCollection();
        Shape segment = new Line2D.Double(-9, 0, 9, 0);
        for (int r = 0; r < runs.size(); r++) {
            items.add(new LegendItem(runs.get(r).label(), null, null, null, segment, LINE, colour(r)));
        }
        if (withValidation) {
            Color grey = new Color(0x777777);
            items.add(new LegendItem("training", null, null, null, segment, LINE, grey));
            items.add(new LegendItem("validation", null, null, null, true, DOT, true, grey, false, grey, LINE, true,
                    segment, DASHED, grey));
        }
        LegendTitle legend = new LegendTitle(() -> items);
        legend.setItemFont(new Font(FONT, Font.PLAIN, 12));
        legend.setItemPaint(TEXT);
        legend.setFrame(BlockBorder.NONE);
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setBackgroundPaint(Color.WHITE);
        return legend;
    }

    /** A series of at most {@link #MAX_POINTS} points: consecutive steps averaged in equal buckets when longer. */
    static XYSeries downsample(String key, List<MetricsHistory.Step> steps, ToDoubleFunction<MetricsHistory.Step> x,
                               ToDoubleFunction<MetricsHistory.Step> y) {
        XYSeries s = new XYSeries(key, false, true);
        int n = steps.size();
        int buckets = Math.min(n, MAX_POINTS);
        for (int b = 0; b < buckets; b++) {
            int from = (int) ((long) b * n / buckets);
            int to = (int) ((long) (b + 1) * n / buckets);
            double sx = 0;
            double sy = 0;
            int count = 0;
            for (int i = from; i < to; i++) {
                double v = y.applyAsDouble(steps.get(i));
                if (Double.isFinite(v)) {
                    sx += x.applyAsDouble(steps.get(i));
                    sy += v;
                    count++;
                }
            }
            if (count > 0) {
                s.add(sx / count, sy / count);
            }
        }
        return s;
    }

    /**
     * The confusion matrix as a heat map: rows are true labels (top to bottom), columns predicted labels, each cell
     * shaded by its share of the row (the class's recall in the diagonal) and labelled with its count.
     */
    static JFreeChart confusion(EvaluationResults results) {
        List<String> labels = results.labels();
        int n = labels.size();
        double[][] xyz = new double[3][n * n];
        XYPlot plot = new XYPlot();
        for (int t = 0; t < n; t++) {
            long rowSum = results.confusion().get(t).stream().mapToLong(Long::longValue).sum();
            for (int p = 0; p < n; p++) {
                long count = results.confusion().get(t).get(p);
                double share = rowSum == 0 ? 0 : (double) count / rowSum;
                int i = t * n + p;
                xyz[0][i] = p;
                xyz[1][i] = t;
                xyz[2][i] = share;
                XYTextAnnotation label = new XYTextAnnotation(String.format(Locale.ROOT, "%,d", count), p, t);
                label.setFont(new Font(FONT, Font.BOLD, n > 12 ? 9 : 13));
                label.setPaint(share > 0.5 ? Color.WHITE : TEXT);
                plot.addAnnotation(label);
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("confusion", xyz);
        LookupPaintScale scale = new LookupPaintScale(0, 1.0001, Color.WHITE);
        Color low = new Color(0xf7fbff);
        Color high = new Color(0x08519c);
        for (int k = 0; k <= 20; k++) {
            double f = k / 20.0;
            scale.add(f, new Color(mix(low.getRed(), high.getRed(), f), mix(low.getGreen(), high.getGreen(), f),
                    mix(low.getBlue(), high.getBlue(), f)));
        }
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(scale);
        renderer.setBlockAnchor(RectangleAnchor.CENTER);
        String[] names = labels.toArray(String[]::new);
        SymbolAxis predicted = new SymbolAxis("predicted label", names);
        SymbolAxis actual = new SymbolAxis("true label", names);
        for (SymbolAxis a : new SymbolAxis[] {predicted, actual}) {
            a.setGridBandsVisible(false);
            a.setRange(-0.5, n - 0.5);
            a.setLabelFont(new Font(FONT, Font.PLAIN, 13));
            a.setTickLabelFont(new Font(FONT, Font.PLAIN, 12));
            a.setLabelPaint(TEXT);
            a.setTickLabelPaint(TEXT);
            a.setAxisLineVisible(false);
            a.setTickMarksVisible(false);
        }
        actual.setInverted(true);
        boolean longLabels = labels.stream().anyMatch(l -> l.length() > 8);
        predicted.setVerticalTickLabels(longLabels && n > 3);
        plot.setDataset(data);
        plot.setDomainAxis(predicted);
        plot.setRangeAxis(actual);
        plot.setRenderer(renderer);
        plot.setDomainAxisLocation(org.jfree.chart.axis.AxisLocation.TOP_OR_LEFT);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        JFreeChart chart = new JFreeChart(null, null, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(new TextTitle("shade: share of the true label's row", new Font(FONT, Font.PLAIN, 11),
                new Color(0x666666), RectangleEdge.BOTTOM, org.jfree.chart.ui.HorizontalAlignment.CENTER,
                org.jfree.chart.ui.VerticalAlignment.CENTER, new RectangleInsets(6, 0, 0, 0)));
        return chart;
    }

    /** Pixel size of a confusion chart: cells of about 56 pixels plus room for the labels. */
    static int confusionSize(EvaluationResults results) {
        int longest = results.labels().stream().mapToInt(String::length).max().orElse(1);
        return Math.min(900, Math.max(300, 56 * results.labels().size() + 110 + 7 * Math.min(longest, 24)));
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round(a + (b - a) * f);
    }

    private static NumberAxis axis(String label) {
        NumberAxis a = new NumberAxis(label);
        a.setLabelFont(new Font(FONT, Font.PLAIN, 13));
        a.setTickLabelFont(new Font(FONT, Font.PLAIN, 12));
        a.setLabelPaint(TEXT);
        a.setTickLabelPaint(TEXT);
        a.setAxisLinePaint(new Color(0x999999));
        a.setTickMarkPaint(new Color(0x999999));
        return a;
    }

    private static void style(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        plot.setDomainGridlineStroke(new BasicStroke(1f));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
        plot.setInsets(new RectangleInsets(4, 4, 4, 14));
    }

    /** The chart as an inline {@code <svg>} element that scales to its container; {@code id} keeps ids unique. */
    static String svg(JFreeChart chart, int width, int height, String id) {
        SVGGraphics2D g = new SVGGraphics2D(width, height);
        g.setDefsKeyPrefix(id + "-");
        g.setGeomDoubleConverter(v -> {
            // two decimals are finer than any screen and halve the file against Java's full doubles
            double r = Math.round(v * 100) / 100.0;
            return r == Math.rint(r) ? Long.toString((long) r) : Double.toString(r);
        });
        chart.draw(g, new Rectangle2D.Double(0, 0, width, height));
        return g.getSVGElement(id, false, new ViewBox(0, 0, width, height), null, null);
    }

    /** The chart as PNG bytes, drawn at {@code scale} times its size (2 for sharp slides). */
    static void png(JFreeChart chart, int width, int height, double scale, OutputStream out) throws IOException {
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage((int) Math.round(width * scale),
                (int) Math.round(height * scale), java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = image.createGraphics();
        try {
            g.scale(scale, scale);
            chart.draw(g, new Rectangle2D.Double(0, 0, width, height));
        } finally {
            g.dispose();
        }
        ChartUtils.writeBufferedImageAsPNG(out, image);
    }

    /** 1.2M, 350k, 12: tick labels for token counts and rates (or any other text for a number). */
    static final class Compact extends NumberFormat {
        private final java.util.function.DoubleFunction<String> text;

        Compact() {
            this(Compact::compact);
        }

        Compact(java.util.function.DoubleFunction<String> text) {
            this.text = text;
        }

        @Override
        public StringBuffer format(double v, StringBuffer to, FieldPosition pos) {
            return to.append(text.apply(v));
        }

        private static String compact(double v) {
            double a = Math.abs(v);
            String s;
            if (a >= 1e9) {
                s = trim(v / 1e9) + "G";
            } else if (a >= 1e6) {
                s = trim(v / 1e6) + "M";
            } else if (a >= 1e3) {
                s = trim(v / 1e3) + "k";
            } else {
                s = trim(v);
            }
            return s;
        }

        @Override
        public StringBuffer format(long v, StringBuffer to, FieldPosition pos) {
            return format((double) v, to, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            throw new UnsupportedOperationException("tick labels are not parsed");
        }

        private static String trim(double v) {
            String s = new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros()
                    .toPlainString();
            return s;
        }
    }
}
