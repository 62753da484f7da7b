"""Reading and editing kubeconfig files byte-exactly.

Reading: ``files`` (which files), ``parse`` (one file into the ``model``, PyYAML nodes kept),
``goyaml`` (values as kubectl's go-yaml reads them), ``merge`` (several files as kubectl merges
them), ``clientgo`` (what kubectl hands a plugin). Editing: ``edit`` (surgical text edits),
``inject`` (the inject and restore use cases), ``drift`` (the one rule for what drifted),
``write`` (all files or none), ``launcher`` (the shim command they point at), ``wrapping``
(the tray's one-call Wrap and Restore).
"""
