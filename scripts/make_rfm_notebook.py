"""Write notebooks/01_rfm_segmentation.ipynb (kept as a script so the notebook's source is reviewable)."""

from pathlib import Path

import nbformat as nbf

cells = []
md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell

cells.append(md("# Customer segments by recency, frequency and value (RFM)\n\n"
                "Who buys often, recently and for a lot, and who is slipping away: every customer scored on "
                "recency (R), frequency (F) and monetary value (M), and placed in one segment with a suggested action."))
params = code(
    '# Parameters (Papermill injects overrides below this cell)\n'
    'data_source = "demo"          # "demo", or a path: Online Retail csv.gz, a CDNOW file, any transactions CSV/Parquet\n'
    'source_format = "auto"        # auto | demo | online_retail | cdnow | transactions\n'
    'column_mapping = {}           # canonical -> your column, e.g. {"customer_id": "CustomerID"}\n'
    'observation_end = None        # inclusive last day, e.g. "2011-12-09"; default: last day in the data\n'
    'report_as_of = None           # set by `crm run --as-of`: overrides observation_end\n'
    'returns = "drop"              # drop returns (negative amounts) or keep them (they lower M)\n'
    'seed = 42\n'
    'n_customers = 5000\n'
    'show_top_customers = 10\n'
    'pseudonymize_ids = True       # customer ids in this report are salted hashes unless set to False\n'
)
params.metadata["tags"] = ["parameters"]
cells.append(params)
cells.append(code(
    "import warnings\n\n"
    "import matplotlib.pyplot as plt\n"
    "import pandas as pd\n"
    "from IPython.display import Markdown, display\n\n"
    "from crm_models.datasets.sources import load_transactions_source\n"
    "from crm_models.plotting.rfm import plot_rf_grid, plot_segment_shares, plot_value_loyalty\n"
    "from crm_models.plotting.style import apply_report_style\n"
    "from crm_models.reporting.privacy import pseudonymize\n"
    "from crm_models.rfm import rfm_scores, segment_customers, segment_summary, value_loyalty_matrix\n"
    "from crm_models.tracking import data_fingerprint, log_figure, log_metrics, log_params, log_table\n\n"
    "apply_report_style()\n"
    "pd.set_option('display.float_format', lambda v: f'{v:,.2f}')\n"
    "end = report_as_of or observation_end\n"
    "loaded = load_transactions_source(data_source, source_format=source_format, columns=column_mapping or None,\n"
    "                                  observation_end=end, returns=returns, seed=seed, n_customers=n_customers)\n"
    "tx = loaded.transactions\n"
    "scores = rfm_scores(tx, observation_end=loaded.observation_end)\n"
    "segments = segment_customers(scores, 'seed_003')\n"
    "summary = segment_summary(scores, segments, 'seed_003')\n"
    "quadrants = value_loyalty_matrix(scores)\n"
))
cells.append(code(
    "n = len(scores)\n"
    "top = summary.sort_values('revenue_share', ascending=False)\n"
    "hv = summary.loc['high value']\n"
    "risk = summary.loc['at risk']\n"
    "active_90 = int((scores['recency_days'] <= 90).sum())\n"
    "headline = (\n"
    "    f\"**{n:,} customers** bought from {loaded.description} up to {loaded.observation_end:%d %B %Y}; \"\n"
    "    f\"{active_90:,} ({active_90 / n:.0%}) bought in the last 90 days. \"\n"
    "    f\"The **high-value** segment is {hv.customer_share:.0%} of customers but brings \"\n"
    "    f\"**{hv.revenue_share:.0%} of revenue**: reward and retain them. \"\n"
    "    f\"**{int(risk.customers):,} customers are at risk** (they used to buy often and spend well but have not \"\n"
    "    f\"bought recently); together they carry {risk.revenue_share:.0%} of revenue and are the first to win back. \"\n"
    "    f\"The largest revenue block is *{top.index[0]}* ({top.revenue_share.iloc[0]:.0%}).\"\n"
    ")\n"
    "display(Markdown('## Executive summary\\n\\n' + headline))"
))
cells.append(md("## Segments and what to do about them\n\nEach customer falls in exactly one segment: the first rule it "
                "meets, in the order below (scores are percentiles, 100 = best)."))
cells.append(code(
    "fig, ax = plt.subplots(figsize=(8, 4.4))\n"
    "plot_segment_shares(summary, ax=ax, title=f'High-value customers: {hv.customer_share:.0%} of customers, '\n"
    "                    f'{hv.revenue_share:.0%} of revenue')\n"
    "plt.show()\n"
    "labels = {'customers': 'Customers', 'customer_share': 'Share of customers', 'revenue': 'Revenue',\n"
    "          'revenue_share': 'Share of revenue', 'mean_recency_days': 'Days since last purchase (mean)',\n"
    "          'mean_frequency': 'Purchases (mean)', 'mean_monetary': 'Spend (mean)', 'action': 'Suggested action'}\n"
    "table = summary.rename(columns=labels)\n"
    "table.index.name = 'Segment'\n"
    "display(table.style.format({'Share of customers': '{:.1%}', 'Share of revenue': '{:.1%}', 'Revenue': '{:,.0f}',\n"
    "                            'Days since last purchase (mean)': '{:.0f}', 'Purchases (mean)': '{:.1f}',\n"
    "                            'Spend (mean)': '{:,.0f}'})\n"
    "        .set_properties(subset=['Suggested action'], **{'min-width': '18em', 'text-align': 'left'}))"
))
cells.append(md("## Where the money sits on recency and frequency"))
cells.append(code(
    "fig, ax = plt.subplots(figsize=(7, 5.2))\n"
    "plot_rf_grid(scores, ax=ax, title='Recent, frequent buyers spend the most')\n"
    "plt.show()"
))
cells.append(md("## Value x loyalty matrix"))
cells.append(code(
    "fig, ax = plt.subplots(figsize=(6.5, 4.5))\n"
    "gold_share = scores.loc[quadrants == 'gold', 'monetary'].sum() / scores['monetary'].sum()\n"
    "plot_value_loyalty(quadrants, scores['monetary'], ax=ax, title=f'Gold customers carry {gold_share:.0%} of revenue')\n"
    "plt.show()"
))
cells.append(md("## Top customers by spend\n\nIdentifiers are pseudonymized (salted hash) unless the run says otherwise."))
cells.append(code(
    "top_customers = scores.sort_values('monetary', ascending=False).head(show_top_customers).assign(segment=segments)\n"
    "if pseudonymize_ids:\n"
    "    top_customers.index = pseudonymize(top_customers.index)\n"
    "top_customers.index.name = 'customer'\n"
    "display(top_customers[['recency_days', 'frequency', 'monetary', 'rfm_cell', 'segment']])"
))
cells.append(md("## Data quality\n\nRows dropped on purpose, by reason, so that nothing disappears silently."))
cells.append(code(
    "display(loaded.report.to_frame().style.format({'amount': '{:,.0f}', 'share_of_input': '{:.1%}'}).hide(axis='index'))\n"
    "if loaded.report.notes:\n"
    "    display(Markdown('\\n'.join(f'- {note}' for note in loaded.report.notes)))"
))
cells.append(code(
    "# Tracking: parameters, headline metrics and tables go to MLflow (no customer ids).\n"
    "log_params({'data_source': str(data_source), 'source_format': loaded.source_format,\n"
    "            'observation_end': str(loaded.observation_end.date()), 'returns': returns, 'seed': seed,\n"
    "            'n_customers': n_customers, 'data_fingerprint': data_fingerprint(tx)})\n"
    "log_metrics({'kpi_active_customers': active_90, 'kpi_customers': n, 'kpi_revenue': float(scores['monetary'].sum()),\n"
    "             'kpi_high_value_customers': float(hv.customers), 'kpi_at_risk_customers': float(risk.customers),\n"
    "             'high_value_revenue_share': float(hv.revenue_share), 'rows_dropped': loaded.report.rows_dropped})\n"
    "log_table(summary, 'rfm/segment_summary.csv')\n"
    "log_table(loaded.report.to_frame(), 'rfm/quality_report.csv')"
))
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
out = Path(__file__).resolve().parents[1] / "notebooks" / "01_rfm_segmentation.ipynb"
nbf.write(nb, out)
print(f"wrote {out}")
