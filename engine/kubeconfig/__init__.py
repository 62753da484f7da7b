"""Reading and editing kubeconfig files byte-exactly: the model, edits, inject and restore, the
launcher they point at."""
