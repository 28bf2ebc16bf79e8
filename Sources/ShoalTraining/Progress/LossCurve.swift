/// The loss plot of a training log: training loss per step and, where the eval hook ran,
/// held-out loss, on a log-scale y axis.
public enum LossCurve {
    public static func plot(_ records: [StepRecord], title: String) -> SVGLinePlot {
        var series = [SVGLinePlot.Series(name: "train loss", points: records.map { (x: Double($0.step), y: $0.loss) })]
        let eval = records.compactMap { r in r.evalLoss.map { (x: Double(r.step), y: $0) } }
        if !eval.isEmpty { series.append(SVGLinePlot.Series(name: "held-out loss", points: eval)) }
        return SVGLinePlot(title: title, xLabel: "step", yLabel: "loss per completion token (nats)", series: series, logY: true)
    }
}
