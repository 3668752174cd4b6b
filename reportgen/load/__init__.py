"""Loading the inputs of a run: the data table, the model for its task, and the embedded demo."""
