"""A client of sealcheck's service that nobody here wrote: Python grpcio.

Checks health, lists the services by reflection, and makes a Verify call from the
descriptors reflection serves (no generated code, no .proto file).
Usage: service_interop.py HOST:PORT CAPTURE APPROVED_TEXT
"""

import sys

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

SERVICE = "sealcheck.v1.SealCheckService"


def main(address, capture, approved):
    channel = grpc.insecure_channel(address)
    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=10).status
    print(health_pb2.HealthCheckResponse.ServingStatus.Name(status))

    database = ProtoReflectionDescriptorDatabase(channel)
    print(" ".join(sorted(database.get_services())))
    pool = DescriptorPool(database)
    method = pool.FindServiceByName(SERVICE).methods_by_name["Verify"]
    request_class = GetMessageClass(method.input_type)
    response_class = GetMessageClass(method.output_type)

    request = request_class(request_id="interop-1")
    with open(capture, "rb") as f:
        request.image = f.read()
    with open(approved, encoding="utf-8") as f:
        request.approved.text = f.read()
    verify = channel.unary_unary(
        f"/{SERVICE}/Verify",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    response = verify(request, timeout=120)
    outcome = pool.FindEnumTypeByName("sealcheck.v1.Outcome")
    print(response.request_id, outcome.values_by_number[response.report.verdict.outcome].name)


if __name__ == "__main__":
    main(*sys.argv[1:4])
