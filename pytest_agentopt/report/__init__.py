"""The run summary and its renderers: the summary as JSON data, the terminal report, the report files (Markdown,
HTML, CSV, the GitHub job summary) and the sentences that state a verdict."""
