import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeriesCollection;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The same two-run loss chart (300 noisy steps each) with each library's defaults, as PNG and SVG. */
public class CompareChartLibraries {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n = 300;
        double[] x = new double[n], a = new double[n], b = new double[n];
        Random r = new Random(1);
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
            a[i] = 3 + 7 * Math.exp(-i / 40.0) + 0.2 * r.nextGaussian();
            b[i] = 3.3 + 7 * Math.exp(-i / 60.0) + 0.2 * r.nextGaussian();
        }
        org.jfree.data.xy.XYSeries sa = new org.jfree.data.xy.XYSeries("full fine-tune");
        org.jfree.data.xy.XYSeries sb = new org.jfree.data.xy.XYSeries("LoRA r=8");
        for (int i = 0; i < n; i++) {
            sa.add(x[i], a[i]);
            sb.add(x[i], b[i]);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(sa);
        data.addSeries(sb);
        JFreeChart jfree = ChartFactory.createXYLineChart("Training loss", "step", "loss", data);
        jfree.getXYPlot().setBackgroundPaint(Color.WHITE);
        ((XYLineAndShapeRenderer) jfree.getXYPlot().getRenderer()).setDrawSeriesLineAsPath(true);
        ChartUtils.saveChartAsPNG(out.resolve("jfreechart.png").toFile(), jfree, 800, 400);
        org.jfree.svg.SVGGraphics2D g = new org.jfree.svg.SVGGraphics2D(800, 400);
        jfree.draw(g, new Rectangle2D.Double(0, 0, 800, 400));
        Files.writeString(out.resolve("jfreechart.svg"), g.getSVGElement());

        XYChart xchart = new XYChartBuilder().width(800).height(400).title("Training loss").xAxisTitle("step")
                .yAxisTitle("loss").build();
        xchart.addSeries("full fine-tune", x, a).setMarker(SeriesMarkers.NONE);
        xchart.addSeries("LoRA r=8", x, b).setMarker(SeriesMarkers.NONE);
        BitmapEncoder.saveBitmap(xchart, out.resolve("xchart").toString(), BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(xchart, out.resolve("xchart").toString(),
                VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        for (String f : new String[] {"jfreechart.png", "jfreechart.svg", "xchart.png", "xchart.svg"}) {
            System.out.printf("%-16s %,9d bytes%n", f, Files.size(out.resolve(f)));
        }
    }
}
