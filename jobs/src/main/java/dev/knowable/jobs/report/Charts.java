package dev.knowable.jobs.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** XChart charts of the report, rendered headless to base64 PNG. Inputs are small aggregates only. */
final class Charts {
  private Charts() {}

  static {
    // No display on executors or CI; XChart renders into a BufferedImage.
    System.setProperty("java.awt.headless", "true");
  }

  /** A named curve or series. */
  record Curve(String name, double[] x, double[] y) {}

  /** Renders on a pool of daemon threads (one per core): the charts of a report are independent images. */
  private static final java.util.concurrent.ExecutorService RENDER = java.util.concurrent.Executors.newFixedThreadPool(
      Math.max(1, Runtime.getRuntime().availableProcessors()), r -> {
        Thread t = new Thread(r, "knowable-report-charts");
        t.setDaemon(true);
        return t;
      });

  /** The chart as a base64 PNG, rendered in the background (XChart charts share no state). */
  static java.util.concurrent.Future<String> pngLater(Chart<?, ?> chart) {
    return RENDER.submit(() -> png(chart));
  }

  static String png(Chart<?, ?> chart) {
    try {
      return Base64.getEncoder().encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot render chart " + chart.getTitle(), e);
    }
  }

  /** Train domain (rows) x eval domain (columns) heatmap with values printed. */
  static HeatMapChart heatmap(String title, List<String> train, List<String> eval, double[][] auc) {
    HeatMapChart chart = new HeatMapChart(760, 520, Styler.ChartTheme.XChart);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.setTitle(title);
    chart.setXAxisTitle("evaluated on");
    chart.setYAxisTitle("trained on");
    List<Number[]> cells = new ArrayList<>();
    for (int t = 0; t < train.size(); t++) {
      for (int e = 0; e < eval.size(); e++) {
        if (!Double.isNaN(auc[t][e])) {
          cells.add(new Number[] {e, t, auc[t][e]});
        }
      }
    }
    chart.addSeries("test AUC", eval, train, cells);
    chart.getStyler().setShowValue(true).setMin(0.5).setMax(1.0).setHeatMapValueDecimalPattern("0.000")
        .setRangeColors(new Color[] {new Color(255, 255, 255), new Color(198, 219, 239), new Color(107, 174, 214)})
        .setValueFontColor(Color.DARK_GRAY).setValueFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 13));
    chart.getStyler().setPlotContentSize(1.0);
    chart.getStyler().setLegendVisible(true);
    fonts(chart.getStyler());
    return chart;
  }

  /** Explicit fonts: XChart's heat map leaves some null on a headless JVM. */
  private static void fonts(Styler s) {
    java.awt.Font plain = new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12);
    s.setChartTitleFont(plain.deriveFont(java.awt.Font.BOLD, 14f));
    s.setLegendFont(plain);
    if (s instanceof org.knowm.xchart.style.AxesChartStyler a) {
      a.setAxisTitleFont(plain.deriveFont(13f));
      a.setAxisTickLabelsFont(plain);
    }
  }

  /** ROC curves (false-positive rate vs true-positive rate) with the chance diagonal. */
  static XYChart roc(String title, List<Curve> curves, int width, int height) {
    XYChart chart = new XYChart(width, height);
    chart.setTitle(title);
    chart.setXAxisTitle("false positive rate (class 0 called aleatoric)");
    chart.setYAxisTitle("true positive rate (class 1)");
    chart.getStyler().setXAxisMin(0.0).setXAxisMax(1.0).setYAxisMin(0.0).setYAxisMax(1.0);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    chart.getStyler().setDecimalPattern("0.0#");
    for (Curve c : curves) {
      XYSeries s = chart.addSeries(c.name(), c.x(), c.y());
      s.setMarker(SeriesMarkers.NONE);
    }
    XYSeries chance = chart.addSeries("chance", new double[] {0, 1}, new double[] {0, 1});
    chance.setMarker(SeriesMarkers.NONE);
    chance.setLineColor(Color.GRAY);
    chance.setLineStyle(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
    return chart;
  }

  /** Grouped bars: categories on x, one series per entry, optional error bars (null entries: none). */
  static CategoryChart bars(String title, String xTitle, List<String> categories, Map<String, double[]> series,
      Map<String, double[]> errors, double yMin) {
    CategoryChart chart = new CategoryChart(760, 420);
    chart.setTitle(title);
    chart.setXAxisTitle(xTitle);
    chart.setYAxisTitle("test AUC (pooled)");
    chart.getStyler().setYAxisMin(yMin).setYAxisMax(1.0);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setDecimalPattern("0.00");
    chart.getStyler().setOverlapped(false);
    for (Map.Entry<String, double[]> e : series.entrySet()) {
      List<Double> y = new ArrayList<>();
      for (double v : e.getValue()) {
        y.add(Double.isNaN(v) ? 0.0 : v);
      }
      double[] err = errors == null ? null : errors.get(e.getKey());
      CategorySeries s;
      if (err != null) {
        List<Double> eb = new ArrayList<>();
        for (double v : err) {
          eb.add(Double.isNaN(v) ? 0.0 : v);
        }
        s = chart.addSeries(e.getKey(), categories, y, eb);
      } else {
        s = chart.addSeries(e.getKey(), categories, y);
      }
      s.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Bar);
    }
    return chart;
  }

  /**
   * The H_S x H_L density as a 2-D histogram (one marker per occupied cell, shaded by its
   * log count in four levels) with the gap-label regions drawn as lines.
   */
  static XYChart density(String title, double[] x, double[] y, long[] count, double maxH, double bandMin,
      double class0Max, double class1Gap) {
    XYChart chart = new XYChart(980, 640);
    chart.setTitle(title);
    chart.setXAxisTitle("H_S: small model's entropy (nats)");
    chart.setYAxisTitle("H_L: large model's entropy (nats)");
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    chart.getStyler().setMarkerSize(6);
    chart.getStyler().setXAxisMin(0.0).setXAxisMax(maxH).setYAxisMin(0.0).setYAxisMax(maxH);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setDecimalPattern("0.0");
    long top = 1;
    for (long c : count) {
      top = Math.max(top, c);
    }
    double logTop = Math.log(top + 1.0);
    Color[] shades = {new Color(198, 219, 239), new Color(107, 174, 214), new Color(33, 113, 181),
        new Color(8, 48, 107)};
    String[] names = {"few positions", "more", "many", "most (log scale)"};
    for (int level = 0; level < 4; level++) {
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (int i = 0; i < count.length; i++) {
        int l = Math.min(3, (int) (4 * Math.log(count[i] + 1.0) / (logTop + 1e-12)));
        if (l == level) {
          xs.add(x[i]);
          ys.add(y[i]);
        }
      }
      if (!xs.isEmpty()) {
        XYSeries s = chart.addSeries(names[level], xs, ys);
        s.setMarker(SeriesMarkers.SQUARE);
        s.setMarkerColor(shades[level]);
      }
    }
    line(chart, "class 0 (epistemic): H_L < " + class0Max, new double[] {0, maxH},
        new double[] {class0Max, class0Max}, new Color(200, 30, 30));
    line(chart, "class 1 (aleatoric): |H_L - H_S| <= " + class1Gap, new double[] {0, maxH - class1Gap},
        new double[] {class1Gap, maxH}, new Color(230, 140, 0));
    line(chart, "class 1 lower edge", new double[] {class1Gap, maxH}, new double[] {0, maxH - class1Gap},
        new Color(230, 140, 0));
    if (bandMin > 0 && bandMin < maxH) {
      line(chart, "band edge H_S = " + bandMin, new double[] {bandMin, bandMin}, new double[] {0, maxH},
          new Color(80, 80, 80));
    }
    return chart;
  }

  private static void line(XYChart chart, String name, double[] x, double[] y, Color color) {
    XYSeries s = chart.addSeries(name, x, y);
    s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    s.setMarker(SeriesMarkers.NONE);
    s.setLineColor(color);
    s.setLineWidth(2f);
  }

  /** Distributions as step-free lines over bin centres (share of each class's positions per bin). */
  static XYChart distributions(String title, String xTitle, List<Curve> curves) {
    XYChart chart = new XYChart(760, 420);
    chart.setTitle(title);
    chart.setXAxisTitle(xTitle);
    chart.setYAxisTitle("share of the class's positions");
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setDecimalPattern("0.00");
    for (Curve c : curves) {
      XYSeries s = chart.addSeries(c.name(), c.x(), c.y());
      s.setMarker(SeriesMarkers.CIRCLE);
    }
    return chart;
  }
}
