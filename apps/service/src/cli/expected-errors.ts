/** Errors whose message is the whole story: printed without a stack. */
export const expectedErrors = new Set([
  'ConfigurationError',
  'ConfigurationMissingError',
  'ConfigurationExistsError',
  'OldConfigurationKeysError',
  'InvalidEnvironmentError',
  'InvalidConfigurationError',
  'FolderLockedError',
  'JoinError',
  'UsageError',
  'ApiResponseError',
  'ApiUnreachableError',
  'InvalidMultiaddrError',
  'PeerstoreFileError',
  'StateImportError',
  'OperationRejectedError',
  'AddressInUseError',
  'UnknownConfigurationKeysError',
  // Consensus's membership refusals (from the consensus rework), whose messages say what to do.
  'RemovedFromClusterError',
  'JoinInProgressError',
  'JoinNotAllowedError',
  'OutputClosedError',
  // The IPFS connector's configuration, whose message names the key.
  'InvalidConnectorConfigurationError',
  // pin_tracker.stateless, likewise.
  'InvalidTrackerConfigurationError',
  // informer.*, monitor.pubsubmon, allocator.balanced, likewise.
  'AllocationConfigurationError',
])
