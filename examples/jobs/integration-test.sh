#!/bin/sh
# The sandbox's stand-in for an OpenShift integration pipeline: it checks that it was given the
# images it needs, pretends to test them, and exits 0 (SUCCESS) or 1 (FAILURE).
echo "run ${CVP_RUN_ID}: testing '${TESTEXPR}'"
for var in TOWER_CONTAINER_IMAGE MEMCACHED_CONTAINER_IMAGE MESSAGING_CONTAINER_IMAGE; do
  eval "value=\${$var}"
  echo "  $var=${value:-(not rebuilt)}"
done
if [ -z "${TOWER_CONTAINER_IMAGE}" ]; then
  echo "no ansible-tower image to test" >&2
  exit 1
fi
sleep 1
echo "all tests passed"
