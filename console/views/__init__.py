# The console's pages, one module per kind of page: each builds its data once and renders it as HTML or JSON.
