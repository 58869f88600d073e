package dev.knowable.jobs.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The report's HTML, built section by section: inline CSS, images as data URIs, no script. No Spark. */
final class Html {
  private final StringBuilder sb = new StringBuilder();
  /** PNGs rendered on other threads while the next section's Spark work runs. */
  private final List<java.util.concurrent.Future<String>> pending = new java.util.ArrayList<>();

  Html(String title) {
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
        .append("</title>\n<style>\n")
        .append("body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0 auto;max-width:1200px;padding:0 24px;"
            + "color:#222;line-height:1.45}\n")
        .append("nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:8px 0;z-index:1}\n")
        .append("nav a{margin-right:14px;text-decoration:none;color:#1a5fb4}\n")
        .append("h2{border-top:2px solid #ddd;padding-top:14px;margin-top:32px}h2,figure{scroll-margin-top:48px}\n")
        .append("table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;"
            + "text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}\n")
        .append("figure{margin:10px 0;display:inline-block;vertical-align:top}figure.small img{width:560px}"
            + "figcaption{font-size:12px;color:#555}\n")
        .append("img{max-width:100%}\n")
        .append(".pass{border:1px solid #ddd;padding:10px;margin:12px 0;line-height:1}"
            + ".t{display:inline-block;text-align:center;margin:0 0 8px;vertical-align:top}"
            + ".t b{display:block;font-weight:normal;font-family:'DejaVu Sans Mono',monospace;font-size:14px;"
            + "white-space:pre;padding:2px 0;min-width:6px}"
            + ".t i{display:block;height:4px;margin-top:1px}"
            + ".t.out b{border-bottom:2px dotted #aaa}\n")
        .append("pre{background:#f6f6f6;padding:10px;font-size:12px;max-height:500px;overflow:auto}\n")
        .append(".pos{color:#1a7f37}.neg{color:#b42318}\n")
        .append("</style></head><body>\n<h1 id=\"top\">").append(esc(title)).append("</h1>\n");
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  void nav(List<String> ids) {
    sb.append("<nav>");
    for (String id : ids) {
      sb.append("<a href=\"#").append(id).append("\">").append(id).append("</a>");
    }
    sb.append("</nav>\n");
  }

  void section(String id, String title) {
    sb.append("<h2 id=\"").append(id).append("\">").append(esc(title)).append(" <a href=\"#top\" style=\""
        + "font-size:12px;font-weight:normal\">top</a></h2>\n");
  }

  void h3(String title) {
    sb.append("<h3>").append(esc(title)).append("</h3>\n");
  }

  /** A paragraph of trusted markup (callers escape data). */
  void p(String markup) {
    sb.append("<p>").append(markup).append("</p>\n");
  }

  void pre(String text) {
    sb.append("<pre>").append(esc(text)).append("</pre>\n");
  }

  void chart(String id, java.util.concurrent.Future<String> base64Png, String alt) {
    chart(id, base64Png, alt, null);
  }

  /** A chart still being rendered: its PNG is filled in by {@link #finish}. */
  void chart(String id, java.util.concurrent.Future<String> base64Png, String alt, String cssClass) {
    String placeholder = "\u0000png" + pending.size() + "\u0000";
    pending.add(base64Png);
    // Ids carry data (ROC charts are named by domain): escaped like any attribute value.
    sb.append("<figure id=\"").append(esc(id)).append("\" class=\"chart").append(cssClass == null ? "" : " " + cssClass)
        .append("\"><img alt=\"").append(esc(alt)).append("\" src=\"data:image/png;base64,").append(placeholder)
        .append("\"><figcaption>").append(esc(alt)).append("</figcaption></figure>\n");
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
  }

  private static String signed(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%+.3f", v);
  }

  void headlineTable(List<ReportData.Headline> rows) {
    sb.append("<table id=\"headline-table\"><tr><th class=\"l\">balancing</th><th class=\"l\">probe</th>"
        + "<th>test AUC</th><th>95% interval</th><th>seeds</th><th>class 0</th><th>class 1</th></tr>\n");
    for (ReportData.Headline h : rows) {
      sb.append("<tr class=\"headline\" data-balance=\"").append(esc(h.balance())).append("\" data-probe=\"")
          .append(esc(h.probeKind())).append("\" data-layer=\"").append(h.layer() == null ? "" : h.layer())
          .append("\"><td class=\"l\">").append(esc(h.balance())).append("</td><td class=\"l\">")
          .append(esc(h.label()))
          .append("</td><td class=\"auc\">").append(num(h.auc())).append("</td><td>[").append(num(h.ciLow()))
          .append(", ").append(num(h.ciHigh())).append("]</td><td>").append(h.seeds()).append("</td><td>")
          .append(h.nClass0()).append("</td><td>").append(h.nClass1()).append("</td></tr>\n");
    }
    sb.append("</table>\n");
  }

  void differenceTable(List<ReportData.Difference> rows) {
    if (rows.isEmpty()) {
      p("No probe_comparisons in this run.");
      return;
    }
    sb.append("<table id=\"difference-table\"><tr><th class=\"l\">balancing</th><th class=\"l\">probe</th>"
        + "<th class=\"l\">baseline</th>"
        + "<th>AUC difference</th><th>95% interval (documents resampled)</th><th>seed</th></tr>\n");
    for (ReportData.Difference d : rows) {
      String cls = d.low() > 0 ? "pos" : d.high() < 0 ? "neg" : "";
      sb.append("<tr><td class=\"l\">").append(esc(d.balance())).append("</td><td class=\"l\">")
          .append(esc(d.probeKind())).append(" (layer ").append(d.layer())
          .append(")</td><td class=\"l\">").append(esc(d.baseline())).append("</td><td class=\"").append(cls)
          .append("\">").append(signed(d.difference())).append("</td><td>[").append(signed(d.low())).append(", ")
          .append(signed(d.high())).append("]</td><td>").append(d.seed()).append("</td></tr>\n");
    }
    sb.append("</table>\n");
  }

  /** A threshold as given (0.5, 1.0): at least one decimal, no trailing zeros beyond it. */
  private static String threshold(double v) {
    String s = java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    return s.contains(".") ? s : s + ".0";
  }

  private String sweepDifference(ReportData.SweepDifference d) {
    if (d == null) {
      return "<td>-</td>";
    }
    String cls = d.low() > 0 ? "pos" : d.high() < 0 ? "neg" : "";
    return "<td class=\"" + cls + "\">" + signed(d.difference()) + " [" + signed(d.low()) + ", " + signed(d.high())
        + "]</td>";
  }

  void sweepTable(List<ReportData.SweepRow> rows) {
    sb.append("<table id=\"sweep-table\"><tr><th class=\"l\">balancing</th><th>class 0: H_L &lt;</th>"
        + "<th>class 1: |H_L - H_S| &le;</th><th>n test (0 / 1)</th><th>MLP - combined [95% interval]</th>"
        + "<th>linear - combined [95% interval]</th><th>seeds</th><th class=\"l\">cell</th></tr>\n");
    for (ReportData.SweepRow r : rows) {
      sb.append("<tr class=\"sweep").append(r.own() ? " own" : "").append("\"><td class=\"l\">")
          .append(esc(r.balance())).append("</td><td>").append(threshold(r.class0Cut())).append("</td><td>")
          .append(threshold(r.class1Gap())).append("</td><td>").append(r.nClass0()).append(" / ")
          .append(r.nClass1()).append("</td>").append(sweepDifference(r.mlp())).append(sweepDifference(r.linear()))
          .append("<td>").append(r.seeds()).append("</td><td class=\"l\">")
          .append(r.own() ? "<b>this run</b>" : esc(r.source())).append("</td></tr>\n");
    }
    sb.append("</table>\n");
  }

  void icltTable(List<ReportData.IcltAuc> rows) {
    sb.append("<table id=\"iclt-table\"><tr><th class=\"l\">band</th><th class=\"l\">score</th><th>test AUC</th>"
        + "<th>95% interval</th><th>class 0</th><th>class 1</th></tr>\n");
    for (ReportData.IcltAuc r : rows) {
      sb.append("<tr><td class=\"l\">").append(esc(r.bandBalance())).append("</td><td class=\"l\">")
          .append(esc(r.score())).append("</td><td>").append(num(r.auc())).append("</td><td>[")
          .append(num(r.ciLow())).append(", ").append(num(r.ciHigh())).append("]</td><td>").append(r.nClass0())
          .append("</td><td>").append(r.nClass1()).append("</td></tr>\n");
    }
    sb.append("</table>\n");
  }

  void facts(Map<String, String> facts) {
    sb.append("<table id=\"facts\">");
    facts.forEach((k, v) -> sb.append("<tr><th class=\"l\">").append(esc(k)).append("</th><td class=\"l\">")
        .append(esc(v)).append("</td></tr>\n"));
    sb.append("</table>\n");
  }

  /**
   * One passage: token i+1 carries the prediction at position i. {@code pieces} are the token
   * texts from the tokenizer (null: show ids).
   */
  void passage(String docId, String domain, List<ReportData.Token> positions, String[] pieces, double bandMin,
      double bandMax) {
    sb.append("<div class=\"pass\" data-doc=\"").append(esc(docId)).append("\"><p style=\"line-height:1.4\"><b>")
        .append(esc(domain)).append("</b> &middot; ").append(esc(docId)).append("</p>\n");
    if (pieces != null && pieces.length > 0 && !positions.isEmpty() && positions.get(0).position() == 0) {
      // The first token has no prediction before it: shown, not shaded.
      sb.append("<span class=\"t out\" title=\"position 0: the first token, not predicted\"><b>")
          .append(esc(pieces[0].replace("\n", "\u21b5").replace("\t", "\u21e5"))).append("</b><i></i><i></i></span>");
    }
    for (ReportData.Token r : positions) {
      int next = r.position() + 1;
      String piece = pieces != null && next < pieces.length && pieces[next] != null ? pieces[next]
          : "#" + r.tokenId();
      float hs = r.hs();
      double p = r.p();
      Float hl = r.hl();
      boolean inBand = hs >= bandMin && hs < bandMax;
      String shown = piece.replace("\n", "\u21b5").replace("\t", "\u21e5");
      sb.append("<span class=\"t").append(inBand ? "" : " out").append("\" title=\"")
          .append(esc(String.format(Locale.ROOT, "position %d: H_S %.3f, H_L %s, P(epistemic) %.3f%s", next, hs,
              hl == null ? "n/a" : String.format(Locale.ROOT, "%.3f", hl), p, inBand ? "" : " (outside the band)")))
          .append("\"><b");
      if (inBand) {
        sb.append(String.format(Locale.ROOT, " style=\"background:rgba(214,39,40,%.2f)\"", p));
      }
      sb.append(">").append(esc(shown)).append("</b><i style=\"background:").append(shade(hs, 33, 113, 181)).append("\"></i><i style=\"background:")
          .append(hl == null ? "transparent" : shade(hl, 35, 139, 69)).append("\"></i></span>");
    }
    sb.append("\n</div>\n");
  }

  /** A strip colour for an entropy: transparent at 0 nats, full colour at 4 nats and above. */
  private static String shade(float entropy, int r, int g, int b) {
    double a = Math.max(0, Math.min(1, entropy / 4.0));
    return String.format(Locale.ROOT, "rgba(%d,%d,%d,%.2f)", r, g, b, a);
  }

  /** The token view's key: the probability shading and the two entropy strips. */
  void tokenKey() {
    sb.append("<p style=\"font-size:13px\">Key: <span style=\"background:rgba(214,39,40,0.9);padding:0 4px\">"
        + "P(epistemic) 0.9</span> <span style=\"background:rgba(214,39,40,0.5);padding:0 4px\">0.5</span> "
        + "<span style=\"background:rgba(214,39,40,0.1);padding:0 4px\">0.1</span> &middot; strips under each "
        + "token: <span style=\"background:rgb(33,113,181);color:#fff;padding:0 4px\">H_S</span> (upper) and "
        + "<span style=\"background:rgb(35,139,69);color:#fff;padding:0 4px\">H_L</span> (lower), "
        + "transparent at 0 nats, full colour at 4 nats or more.</p>\n");
  }

  String finish() {
    sb.append("<p style=\"font-size:11px;color:#888;margin-top:40px\">Generated by knowable (report stage). "
        + "Charts: XChart, embedded as PNG; this file needs no network.</p>\n</body></html>\n");
    String page = sb.toString();
    StringBuilder out = new StringBuilder(page.length() + pending.size() * 100_000);
    int from = 0;
    for (int i = 0; i < pending.size(); i++) {
      String placeholder = "\u0000png" + i + "\u0000";
      int at = page.indexOf(placeholder, from);
      out.append(page, from, at);
      try {
        out.append(pending.get(i).get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while rendering the report's charts", e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      }
      from = at + placeholder.length();
    }
    return out.append(page, from, page.length()).toString();
  }
}
