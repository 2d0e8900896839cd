/** Where the secrets renderer puts its files; the engine reads previous secrets from there. */
/** Folder of the objects that create an environment's Kubernetes Secrets. */
export const SECRETS_FOLDER = 'manifests/secrets';

/** Path of the SealedSecret that creates Secret `name`. */
export function sealedSecretPath(name: string): string {
  return `${SECRETS_FOLDER}/sealedsecret-${name}.yaml`;
}

/** Longest name of a Secret whose object file (`externalsecret-<name>.yaml`, `sealedsecret-<name>.yaml`) file systems take: 255 bytes. */
export const MAX_SECRET_OBJECT_NAME = 255 - 'externalsecret-.yaml'.length;
