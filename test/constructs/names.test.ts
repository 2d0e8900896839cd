import { describe, expect, it } from 'vitest';
import { closestName, didYouMean } from '../../constructs/names';

describe('closestName', () => {
  const services = ['elasticsearch', 'kafka', 'mysql', 'redis', 'rabbitmq', 'zookeeper'];

  it.each([
    ['mysq', 'mysql'], // a letter left out
    ['MySQL', 'mysql'], // another case
    ['rdeis', 'redis'], // two letters swapped
    ['zookeper', 'zookeeper'],
    ['elasticserach', 'elasticsearch'],
  ])('takes %s for %s', (name, closest) => {
    expect(closestName(name, services)).toBe(closest);
  });

  it.each([['postgres'], ['db'], [''], ['mysql']])('suggests nothing for %j: too far, or the name itself', (name) => {
    expect(closestName(name, services)).toBeUndefined();
  });

  it('suggests nothing when two names are as near', () => {
    // GIVEN dev and dew, one edit from de_; WHEN asked for "dex"; THEN neither is guessed
    expect(closestName('dex', ['dev', 'dew', 'prod'])).toBeUndefined();
  });

  it('writes the hint as a parenthesis to put after the name, or nothing', () => {
    expect(didYouMean('prd', ['dev', 'prod'])).toBe(' (did you mean "prod"?)');
    expect(didYouMean('staging', ['dev', 'prod'])).toBe('');
    expect(didYouMean(undefined, ['dev', 'prod'])).toBe('');
  });
});
