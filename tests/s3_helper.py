"""S3 chores for the export tests, against the S3-compatible moto server they start.

Usage: s3_helper.py ENDPOINT create BUCKET
       s3_helper.py ENDPOINT download BUCKET PREFIX DIR   (prints the keys it saved)
"""
import os
import sys

import boto3


def main():
    endpoint, action, bucket = sys.argv[1:4]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    if action == "create":
        s3.create_bucket(Bucket=bucket)
        return
    prefix, target = sys.argv[4], sys.argv[5]
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            keys.append(obj["Key"])
            path = os.path.join(target, obj["Key"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            s3.download_file(bucket, obj["Key"], path)
    print("\n".join(sorted(keys)))


if __name__ == "__main__":
    main()
