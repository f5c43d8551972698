"""An example jupyterhub_config.py using profilespawner.

Profiles come from examples/profiles.yaml next to this file, then from the
ConfigMaps of the hub's namespace (the defaults below). The CLI reads this file
too -- it never talks to Kubernetes, so it uses the files only:

    profilespawner render --config examples/jupyterhub_config.py --user alice
"""

import os

c = get_config()  # noqa: F821 -- provided by JupyterHub when it loads this file

c.JupyterHub.spawner_class = "profilespawner.ProfileKubeSpawner"

# KubeSpawner's own settings still apply; profiles override them key by key.
c.KubeSpawner.image = "quay.io/thoth-station/s2i-minimal-notebook:3.6"
c.KubeSpawner.cpu_limit = 2
c.KubeSpawner.mem_limit = "4G"

# Where profiles come from: files first, then ConfigMaps (later ones override).
here = os.path.dirname(os.path.abspath(__file__))
c.SingleuserProfiles.files = [os.path.join(here, "profiles.yaml")]
c.SingleuserProfiles.configmap_name = "jupyter-singleuser-profiles"
c.SingleuserProfiles.label_selector = "jupyterhub=singleuser-profiles"
c.SingleuserProfiles.default_mount_path = "/opt/app-root/src"
