# Local infrastructure without Docker (MariaDB, DynamoDB Local, Kafka): see scripts/infra.sh.
# Included from the top-level Makefile. For the env in your shell:
#   eval "$(scripts/infra.sh env)"
.PHONY: infra-up infra-down infra-status

infra-up:
	scripts/infra.sh up

infra-down:
	scripts/infra.sh down

infra-status:
	scripts/infra.sh status
