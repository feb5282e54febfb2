"""The pipeline board (``templates/board/``): the kanban and the deal pages beyond editing."""
