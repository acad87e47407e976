"""User interfaces: the `encore` command line (`ui.cli`) and, later, the Gradio app."""
