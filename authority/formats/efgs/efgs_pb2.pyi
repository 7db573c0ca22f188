# Generated from efgs.proto by protoc 35.1 (grpcio-tools 1.85.1); do not edit.
# Regenerate from the repository root with: sh authority/formats/efgs/generate_pb2.sh
# which runs: python -m grpc_tools.protoc --proto_path=. --python_out=. --pyi_out=. authority/formats/efgs/efgs.proto
# ruff: noqa
# fmt: off
# mypy: ignore-errors
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN: _ClassVar[ReportType]
    CONFIRMED_TEST: _ClassVar[ReportType]
    CONFIRMED_CLINICAL_DIAGNOSIS: _ClassVar[ReportType]
    SELF_REPORT: _ClassVar[ReportType]
    RECURSIVE: _ClassVar[ReportType]
    REVOKED: _ClassVar[ReportType]
UNKNOWN: ReportType
CONFIRMED_TEST: ReportType
CONFIRMED_CLINICAL_DIAGNOSIS: ReportType
SELF_REPORT: ReportType
RECURSIVE: ReportType
REVOKED: ReportType

class DiagnosisKeyBatch(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[DiagnosisKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[DiagnosisKey, _Mapping]]] = ...) -> None: ...

class DiagnosisKey(_message.Message):
    __slots__ = ("keyData", "rollingStartIntervalNumber", "rollingPeriod", "transmissionRiskLevel", "visitedCountries", "origin", "reportType", "days_since_onset_of_symptoms")
    KEYDATA_FIELD_NUMBER: _ClassVar[int]
    ROLLINGSTARTINTERVALNUMBER_FIELD_NUMBER: _ClassVar[int]
    ROLLINGPERIOD_FIELD_NUMBER: _ClassVar[int]
    TRANSMISSIONRISKLEVEL_FIELD_NUMBER: _ClassVar[int]
    VISITEDCOUNTRIES_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    REPORTTYPE_FIELD_NUMBER: _ClassVar[int]
    DAYS_SINCE_ONSET_OF_SYMPTOMS_FIELD_NUMBER: _ClassVar[int]
    keyData: bytes
    rollingStartIntervalNumber: int
    rollingPeriod: int
    transmissionRiskLevel: int
    visitedCountries: _containers.RepeatedScalarFieldContainer[str]
    origin: str
    reportType: ReportType
    days_since_onset_of_symptoms: int
    def __init__(self, keyData: _Optional[bytes] = ..., rollingStartIntervalNumber: _Optional[int] = ..., rollingPeriod: _Optional[int] = ..., transmissionRiskLevel: _Optional[int] = ..., visitedCountries: _Optional[_Iterable[str]] = ..., origin: _Optional[str] = ..., reportType: _Optional[_Union[ReportType, str]] = ..., days_since_onset_of_symptoms: _Optional[int] = ...) -> None: ...
