"""`robot review`: the labelling web page. Flagged harvest cells (or every cell of table images)
get a person's answer; answers become the finetune dataset and correct the run's CSVs."""
