"""One module per scheme; each holds everything of its scheme.

A scheme module holds the transfer code, its staging task functions (module-level, so they
pickle by reference and run on any worker), its provider classes (each setting its public
``__module__``), and ends with its one ``register(...)`` call
(``parsl._staging.registry``) when it has transfers of its own.

=========  ==================  =====================================================
module     URL schemes         providers (public module)
=========  ==================  =====================================================
noop       file                NoOpFileStaging (file_noop)
http       http, https         HTTPSeparateTaskStaging, HTTPInTaskStaging (http)
ftp        ftp                 FTPSeparateTaskStaging, FTPInTaskStaging (ftp)
zip        zip                 ZipFileStaging, ZipAuthorityError (zip)
rsync      file (on a host)    RSyncStaging (rsync)
globus     globus              GlobusStaging (globus)
=========  ==================  =====================================================

Adding a scheme is one new module here, ending with its ``register(...)`` line; a public
re-export in ``parsl/data_provider/`` if users should import its providers from there.
A scheme is registered when its module is imported; its providers live in that module, so
their scheme is always registered before they run. Nothing here imports the scheme modules:
``parsl.load`` pays only for the schemes of ``default_staging`` and those a config names.
"""
