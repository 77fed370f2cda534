"""The pytest shell: options, the plugin's roles in each process (controller, worker, single process), and the
glue to pytest-xdist. Everything here talks to pytest; the run machinery it drives lives in ``run``."""
